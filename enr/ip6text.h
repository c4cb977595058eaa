/*
 * enr/ip6text.h — private to enr/: IPv6 addresses as text (RFC 5952), shared by the
 * enode URL formatter and the record value formatter.  Not installed.
 */
#ifndef ETHP2P_ENR_IP6TEXT_H
#define ETHP2P_ENR_IP6TEXT_H

#include <stddef.h>
#include <stdint.h>

/* Longest text written, plus the NUL ("ffff:...:ffff" or "::ffff:255.255.255.255"). */
#define ETHP2P_IP6TEXT_MAX 46

/*
 * Writes ip in the canonical form of RFC 5952 section 4: lower-case hex without
 * leading zeros; the longest run of two or more zero groups (the first of equal
 * runs) as "::"; a single zero group as "0".  Only IPv4-mapped addresses
 * (::ffff:0:0/96, section 5) end in a dotted quad — as go-ethereum (Go's net.IP)
 * prints them; the deprecated IPv4-compatible form stays hex (::102:304), where
 * glibc's inet_ntop would write ::1.2.3.4.
 * Returns the length written (without the NUL).  out must hold ETHP2P_IP6TEXT_MAX.
 */
size_t ethp2p_ip6text_format(char out[ETHP2P_IP6TEXT_MAX], const uint8_t ip[16]);

#endif
