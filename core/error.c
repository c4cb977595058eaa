/* core/error.c — messages and names for the ETHP2P_ERRNO_MAP table. */
#include "ethp2p/error.h"

#include <stdarg.h>
#include <stdio.h>

const char *ethp2p_strerror(int err) {
  switch (err) {
#define ETHP2P_ERR_MSG(name, val, msg)                                                             \
  case ETHP2P_##name:                                                                              \
    return msg;
    ETHP2P_ERRNO_MAP(ETHP2P_ERR_MSG)
#undef ETHP2P_ERR_MSG
  case 0:
    return "success";
  default:
    return "unknown error";
  }
}

const char *ethp2p_err_name(int err) {
  switch (err) {
#define ETHP2P_ERR_NAME(name, val, msg)                                                            \
  case ETHP2P_##name:                                                                              \
    return "ETHP2P_" #name;
    ETHP2P_ERRNO_MAP(ETHP2P_ERR_NAME)
#undef ETHP2P_ERR_NAME
  case 0:
    return "OK";
  default:
    return "ETHP2P_EUNKNOWN";
  }
}

int ethp2p_diag_set(ethp2p_diag *diag, int err, size_t offset, const char *fmt, ...) {
  if (diag != NULL) {
    va_list ap;
    diag->offset = offset;
    va_start(ap, fmt);
    vsnprintf(diag->msg, sizeof diag->msg, fmt, ap);
    va_end(ap);
  }
  return err;
}
