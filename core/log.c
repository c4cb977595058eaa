/* core/log.c — the process-wide log sink. */
#include "ethp2p/log.h"

#include <stdarg.h>
#include <stdio.h>

static ethp2p_log_sink g_sink;
static void *g_sink_data;
static ethp2p_log_level g_max = ETHP2P_LOG_INFO;

void ethp2p_log_set_sink(ethp2p_log_sink sink, void *data, ethp2p_log_level max_level) {
  g_sink = sink;
  g_sink_data = data;
  g_max = max_level;
}

int ethp2p_log_enabled(ethp2p_log_level level) {
  return g_sink != NULL && level <= g_max;
}

void ethp2p_log(ethp2p_log_level level, const char *module, const char *msg, const char *kvfmt,
                ...) {
  char kv[512];
  va_list ap;
  if (!ethp2p_log_enabled(level))
    return;
  va_start(ap, kvfmt);
  vsnprintf(kv, sizeof kv, kvfmt, ap);
  va_end(ap);
  g_sink(g_sink_data, level, module, msg, kv);
}

const char *ethp2p_log_level_name(ethp2p_log_level level) {
  static const char *const names[] = {"CRIT", "ERROR", "WARN", "INFO", "DEBUG", "TRACE"};
  if ((unsigned)level > ETHP2P_LOG_TRACE)
    return "?";
  return names[level];
}
