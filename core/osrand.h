/*
 * core/osrand.h — the operating system's CSPRNG and secret wiping (internal).
 *
 * getrandom(2) rather than a crypto library's generator: the kernel pool is what
 * such generators seed from anyway, it needs no library start-up (OpenSSL's cost
 * a short-lived `ethp2p nat map` about 3 ms of loading and initialisation), and
 * it blocks only until the pool is first seeded at boot.
 */
#ifndef ETHP2P_CORE_OSRAND_H
#define ETHP2P_CORE_OSRAND_H

#include <stddef.h>
#include <stdint.h>

/* Fills buf with len cryptographically random bytes.  Returns 0, or ETHP2P_EIO
 * when the kernel gives none (buf is then zeroed). */
int ethp2p_os_random(uint8_t *buf, size_t len);

/* Overwrites len bytes at p with zeros in a way the compiler may not remove. */
void ethp2p_wipe(void *p, size_t len);

#endif
