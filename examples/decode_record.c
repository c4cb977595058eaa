/*
 * examples/decode_record.c — decode and verify an Ethereum Node Record (EIP-778).
 *
 *   decode_record enr:-IS4QHCYrYZbAKWCBRlAy5zzaDZXJBGkcnh4MHcBFZntXNFrdvJjX04jRzjzCBOonrkTfj...
 *   decode_record -f record.txt        (the first line of a file; "-" reads stdin)
 *
 * Prints the node ID, seq, identity scheme and the endpoint entries; exits 1 if the
 * record does not decode or its signature does not verify (with the library's reason).
 *
 * Build against an installed ethp2p:
 *   cc decode_record.c $(pkg-config --cflags --libs ethp2p) -o decode_record
 */
#include <stdio.h>
#include <string.h>

#include <ethp2p/enr.h>
#include <ethp2p/error.h>

static int read_line(const char *path, char *buf, size_t cap) {
  FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
  if (f == NULL) {
    perror(path);
    return -1;
  }
  int ok = fgets(buf, (int)cap, f) != NULL;
  if (f != stdin)
    fclose(f);
  if (!ok) {
    fprintf(stderr, "%s: empty\n", path);
    return -1;
  }
  buf[strcspn(buf, "\r\n")] = '\0';
  return 0;
}

int main(int argc, char **argv) {
  char text[1024];
  if (argc == 3 && strcmp(argv[1], "-f") == 0) {
    if (read_line(argv[2], text, sizeof text) != 0)
      return 1;
  } else if (argc == 2 && strncmp(argv[1], "enr:", 4) == 0) {
    snprintf(text, sizeof text, "%s", argv[1]);
  } else {
    fprintf(stderr, "usage: %s enr:... | -f FILE\n", argv[0]);
    return 2;
  }

  /* Decode the text form, then check the v4 signature.  On failure diag says what
   * was wrong and where (byte offset). */
  ethp2p_enr rec;
  ethp2p_diag diag = {0};
  int rc = ethp2p_enr_text_decode(&rec, text, strlen(text), &diag);
  if (rc == 0)
    rc = ethp2p_enr_verify(&rec, &diag);
  if (rc != 0) {
    fprintf(stderr, "invalid record: %s (%s) at offset %zu\n", diag.msg, ethp2p_err_name(rc),
            diag.offset);
    return 1;
  }

  uint8_t id[32];
  if (ethp2p_enr_node_id(id, &rec) != 0)
    return 1;
  printf("node id   ");
  for (size_t i = 0; i < sizeof id; i++)
    printf("%02x", id[i]);
  printf("\nseq       %llu\n", (unsigned long long)ethp2p_enr_seq(&rec));

  char scheme[16];
  if (ethp2p_enr_id_get(&rec, scheme, sizeof scheme) == 0)
    printf("id        %s (signature verified)\n", scheme);
  uint8_t ip[4];
  if (ethp2p_enr_ip_get(&rec, ip) == 0)
    printf("ip        %u.%u.%u.%u\n", ip[0], ip[1], ip[2], ip[3]);
  static const ethp2p_enr_port ports[] = {ETHP2P_ENR_TCP, ETHP2P_ENR_UDP, ETHP2P_ENR_QUIC};
  for (size_t i = 0; i < sizeof ports / sizeof ports[0]; i++) {
    uint16_t port;
    if (ethp2p_enr_port_get(&rec, ports[i], &port) == 0)
      printf("%-9s %u\n", ethp2p_enr_port_key(ports[i]), port);
  }
  printf("pairs     %zu\n", ethp2p_enr_pair_count(&rec));
  return 0;
}
