/*
 * ethp2p/env_uv.h — the real environment: libuv sockets and timers, the OS clocks,
 * kernel randomness (getrandom), getifaddrs, /proc/net/route and /proc/net/ipv6_route.
 *
 * Usage:
 *   uv_loop_t loop;  uv_loop_init(&loop);
 *   ethp2p_env *env;  ethp2p_uvenv_create(&loop, &env);
 *   ... create timers / sockets through ethp2p/env.h ...
 *   uv_run(&loop, UV_RUN_DEFAULT);          // the caller runs the loop
 *   ethp2p_uvenv_destroy(env);             // closes what is left, frees env
 *   uv_loop_close(&loop);                  // returns 0: no handle left behind
 *
 * Clock: now() is uv_hrtime() (CLOCK_MONOTONIC, nanoseconds), read fresh on each
 * call; callers read it once per event and pass it down.  wall_ms() is
 * uv_gettimeofday().  random() is getrandom(2) (the kernel CSPRNG;
 * abort() if the OS has no entropy at all, rather than returning weak bytes).
 *
 * Timers are not libuv handles: the environment keeps its own min-heap keyed by
 * (absolute deadline in ns, start sequence), so equal deadlines fire in start
 * order, and drives it with one uv_timer_t (future deadlines, rounded up to the
 * next millisecond) and one uv_idle_t (deadlines already due, so the loop polls
 * I/O without blocking and fires them on the next turn).  A timer armed while
 * timers are being dispatched never fires in that same dispatch.  An armed timer
 * keeps uv_run(UV_RUN_DEFAULT) alive, like a libuv timer; an idle environment
 * does not.  Destroying a timer frees it at once (safe in its own callback).
 *
 * UDP and TCP handles wrap uv_udp_t/uv_tcp_t; their memory is freed in the
 * uv_close callback, and no user callback runs once close has been called.
 * Each UDP handle has a fixed 64 KiB receive buffer (a datagram cannot be
 * larger); TCP reads share one 64 KiB buffer per environment (the loop is single
 * threaded and libuv hands each buffer back before asking for the next).
 *
 * Threading: one loop thread; nothing here is thread safe.
 */
#ifndef ETHP2P_ENV_UV_H
#define ETHP2P_ENV_UV_H

#include <stddef.h>

#include <uv.h>

#include "ethp2p/env.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Creates a libuv environment on `loop`.
 * Returns: 0, ETHP2P_EINVAL (NULL argument), ETHP2P_ENOMEM, or a mapped libuv error.
 * Out: *out = the environment (NULL on failure); the caller owns it and releases it
 *      with ethp2p_uvenv_destroy().  The loop stays the caller's and must outlive env.
 * The caller runs the loop (uv_run); the environment never does, except in destroy.
 * Side effect: if SIGPIPE still has its default disposition (terminate), it is set to
 * SIG_IGN, because libuv writes with write(2) and a peer's reset must surface as
 * ETHP2P_ECONNRESET, not kill the process.  A disposition the application set is kept. */
int ethp2p_uvenv_create(uv_loop_t *loop, ethp2p_env **out);

/* Destroys an environment made by ethp2p_uvenv_create (NULL is a no-op).
 * Every timer, UDP and TCP handle still open is closed (their pointers become
 * invalid; no callback of theirs runs again), then the loop is run with
 * UV_RUN_NOWAIT until libuv has finished closing the environment's own handles,
 * so uv_loop_close() succeeds afterwards if the caller has no handles of its own.
 * Must not be called from inside a callback running on the same loop. */
void ethp2p_uvenv_destroy(ethp2p_env *env);

/* Maps a libuv error code (UV_E*, negative) to an ETHP2P_E* code; 0 stays 0.
 * UV_EOF -> ETHP2P_ECLOSED, UV_ECONNREFUSED -> ECONNREFUSED, UV_ETIMEDOUT -> ETIMEDOUT,
 * UV_ENETUNREACH/UV_EHOSTUNREACH/UV_ENETDOWN/UV_EHOSTDOWN -> ENETUNREACH, UV_EADDRINUSE ->
 * EADDRINUSE, UV_ECONNRESET/UV_EPIPE/UV_ECONNABORTED -> ECONNRESET, UV_ECANCELED -> ECANCELED,
 * UV_ENOMEM/UV_ENOBUFS -> ENOMEM, UV_EACCES/UV_EPERM -> EPERM, UV_EMSGSIZE -> ETOOBIG,
 * UV_EINVAL/UV_EADDRNOTAVAIL -> EINVAL, UV_EAFNOSUPPORT/UV_ENOTSUP/UV_ENOSYS -> EUNSUPP,
 * UV_EBUSY/UV_EAGAIN -> EBUSY, UV_ENOTCONN/UV_EALREADY/UV_EISCONN -> ESTATE,
 * UV_ENOENT/UV_ENODEV/UV_ENXIO -> ENOTFOUND, anything else -> EIO. */
int ethp2p_uvenv_error(int uv_err);

/* Finds the IPv4 default gateway in the text of /proc/net/route (a pure function,
 * no I/O).  A default route is a line whose Destination and Mask are 0 and whose
 * Flags have RTF_UP (0x1) and RTF_GATEWAY (0x2); among several the lowest Metric
 * wins, ties going to the first line.  Address fields are the kernel's %08X of the
 * in-memory (network order) value, i.e. little-endian text on little-endian hosts.
 * Lines that do not parse (the header, junk, truncated lines) are skipped.
 * In: text[0..len) need not be NUL-terminated; at most 1 MiB is looked at.
 * Returns: 0 with *gw = gateway (family 4, port 0), ETHP2P_ENOTFOUND if no line
 *          qualifies (*gw zeroed), ETHP2P_EINVAL on NULL gw. */
int ethp2p_uvenv_route_parse(const char *text, size_t len, ethp2p_addr *gw);

/* Finds the IPv6 default router in the text of /proc/net/ipv6_route (a pure
 * function, no I/O).  Each line is ten whitespace-separated fields: destination
 * (32 hex digits, network order), its prefix length (2 hex), source, its prefix
 * length, next hop (32 hex), metric, refcount, use, flags (8 hex each) and the
 * device name.  A default route is ::/0 with a non-zero next hop, RTF_UP (0x1)
 * and RTF_GATEWAY (0x2) and without RTF_REJECT (0x200); among several the lowest
 * metric wins, ties going to the first line.  Other lines — fewer or more
 * fields, wrong widths, non-hex digits, a device name over 15 characters or with
 * a byte outside printable ASCII — are
 * skipped.
 * In: text[0..len) need not be NUL-terminated; at most 1 MiB is looked at.
 * Returns: 0 with *gw = the next hop (family 6, port 0, scope 0: the caller maps
 *          the device to an index) and, if ifname_size > 0, the device name in
 *          ifname (NUL-terminated, cut to ifname_size - 1); ETHP2P_ENOTFOUND if no
 *          line qualifies (*gw zeroed, ifname ""); ETHP2P_EINVAL on NULL gw, or NULL
 *          ifname with ifname_size > 0. */
int ethp2p_uvenv_route6_parse(const char *text, size_t len, ethp2p_addr *gw, char *ifname,
                              size_t ifname_size);

/* IFA_F_* bits of an IPv6 address (<linux/if_addr.h>), as /proc/net/if_inet6 shows them. */
#define ETHP2P_IFA_F_TEMPORARY 0x01
#define ETHP2P_IFA_F_DADFAILED 0x08
#define ETHP2P_IFA_F_DEPRECATED 0x20
#define ETHP2P_IFA_F_TENTATIVE 0x40
#define ETHP2P_IFA_F_PERMANENT 0x80

/* Finds the flags of one IPv6 address in the text of /proc/net/if_inet6 (a pure
 * function, no I/O).  Each line is six whitespace-separated fields: the address
 * (32 hex digits, network order), the interface index, the prefix length, the
 * scope and the flags (hex, 1..8 digits each) and the device name.  The first
 * line whose address equals ip and whose device equals ifname wins; other lines
 * and lines that do not parse are skipped.
 * In: text[0..len) need not be NUL-terminated; at most 1 MiB is looked at.
 * Returns: 0 with *flags = the IFA_F_* bits (the kernel prints the low 8), ETHP2P_ENOTFOUND
 *          (*flags = 0), ETHP2P_EINVAL on a NULL ip, ifname or flags. */
int ethp2p_uvenv_if_inet6_flags(const char *text, size_t len, const uint8_t ip[16],
                                const char *ifname, uint32_t *flags);

#ifdef __cplusplus
}
#endif
#endif
