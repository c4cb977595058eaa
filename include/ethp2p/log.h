/*
 * ethp2p/log.h — library logging through a callback the application sets.
 *
 * Nothing below cmd/ prints.  Library code calls ETHP2P_LOG(level, "msg", "k=v ...")
 * style helpers; the application installs a sink with ethp2p_log_set_sink().
 * Without a sink, log lines are dropped.  Levels follow go-ethereum.
 * Threading: the sink is process-global; set it before starting loops.
 */
#ifndef ETHP2P_LOG_H
#define ETHP2P_LOG_H

#ifdef __cplusplus
extern "C" {
#endif

typedef enum ethp2p_log_level {
  ETHP2P_LOG_CRIT = 0,
  ETHP2P_LOG_ERROR = 1,
  ETHP2P_LOG_WARN = 2,
  ETHP2P_LOG_INFO = 3,
  ETHP2P_LOG_DEBUG = 4,
  ETHP2P_LOG_TRACE = 5,
} ethp2p_log_level;

/* msg is one short sentence; kv is a preformatted "key=value key=value" string (may be ""). */
typedef void (*ethp2p_log_sink)(void *data, ethp2p_log_level level, const char *module,
                                const char *msg, const char *kv);

/* Installs the sink (NULL to drop logs) and the most verbose level passed to it. */
void ethp2p_log_set_sink(ethp2p_log_sink sink, void *data, ethp2p_log_level max_level);
/* Returns true if a message at `level` would reach the sink. */
int ethp2p_log_enabled(ethp2p_log_level level);
/* Formats kv with printf rules and hands the line to the sink. */
void ethp2p_log(ethp2p_log_level level, const char *module, const char *msg, const char *kvfmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Returns "CRIT", "ERROR", "WARN", "INFO", "DEBUG" or "TRACE". */
const char *ethp2p_log_level_name(ethp2p_log_level level);

#ifdef __cplusplus
}
#endif
#endif
