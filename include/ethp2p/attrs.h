/*
 * ethp2p/attrs.h — compiler attributes of the public headers.
 *
 * ETHP2P_WARN_UNUSED_RESULT marks a function whose result must be checked:
 * ignoring it is a bug (a constructor whose *out may be NULL, a status that
 * says whether the output was written).  GCC and Clang warn; -Werror builds
 * fail.
 */
#ifndef ETHP2P_ATTRS_H
#define ETHP2P_ATTRS_H

#ifndef ETHP2P_WARN_UNUSED_RESULT
#if defined(__GNUC__) || defined(__clang__)
#define ETHP2P_WARN_UNUSED_RESULT __attribute__((warn_unused_result))
#else
#define ETHP2P_WARN_UNUSED_RESULT
#endif
#endif

#endif
