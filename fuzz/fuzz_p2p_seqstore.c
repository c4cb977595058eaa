/*
 * fuzz/fuzz_p2p_seqstore.c — the record sequence-number file a node reads from
 * its data directory at start (<datadir>/enr-seq, p2p/seqstore.c), which a user,
 * a crash or a full disk may have mangled.  The input is the file's content.
 * Properties: no crash; a value that reads back is the only one its file can
 * hold: saving it through a store and reading again gives the same number; a
 * failure is ESYNTAX (or EIO) with *seq 0 and opening a store over the same
 * file still gives a usable seq (the clock).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ethp2p/localnode.h"

static char dir[64];
static char path[128];

static void put(const uint8_t *data, size_t size) {
  FILE *f = fopen(path, "wb");
  if (f == NULL)
    abort();
  if (size > 0 && fwrite(data, 1, size, f) != size)
    abort();
  fclose(f);
}

static void cleanup(void) {
  char tmp[160];
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  unlink(tmp);
  unlink(path);
  rmdir(dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  uint64_t seq = 77, again = 0, start = 0;
  ethp2p_seqstore st;
  if (dir[0] == '\0') {
    snprintf(dir, sizeof dir, "/tmp/fuzz-seqstore-XXXXXX");
    if (mkdtemp(dir) == NULL)
      abort();
    snprintf(path, sizeof path, "%s/%s", dir, ETHP2P_SEQSTORE_FILE);
    atexit(cleanup);
  }
  put(data, size);
  int rc = ethp2p_seqstore_read(dir, &seq);
  if (rc != 0) {
    if (seq != 0 || rc == ETHP2P_ENOTFOUND)
      abort();
    /* A node still starts: from the clock. */
    ethp2p_seqstore_open(&st, dir, 1000, &start);
    if (start != 1000)
      abort();
    return 0;
  }
  /* Open keeps the larger of stored and clock; save + read gives the same value. */
  if (ethp2p_seqstore_open(&st, dir, 1, &start) != 0 || start != (seq > 1 ? seq : 1))
    abort();
  if (ethp2p_seqstore_save(&st, seq) != 0 || ethp2p_seqstore_read(dir, &again) != 0 || again != seq)
    abort();
  return 0;
}
