/* bench/bench_p2p_simnet.c — node-days of discovery simulated per CPU second.
 *
 * A fixed scenario run through the CLI next to this program (build/ethp2p):
 *   ethp2p sim --network 100 --duration 5m --lookups 20 --seed 1 --bench
 * 100 real nodes (server + discv4) behind the 27 NAT types, 5 simulated
 * minutes.  The CLI measures its own CPU time (a busy shared machine does not
 * skew it) and prints, besides BENCH sim_discovery_node_days_per_s, the raw
 * sign + recover rate of secp256k1 measured in the same run and the ratio of
 * discovery packets per CPU second to it: every discv4 packet is signed once and
 * recovered once, so a ratio near 1 means the world costs little beyond the
 * crypto the protocol needs.  The scenario's own figures (trace hash, tables,
 * lookups) are printed too, so a change in behaviour shows next to a change in
 * speed.  The BENCH lines are passed through; exit 1 when the CLI fails. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv) {
  char self[PATH_MAX], cmd[PATH_MAX + 128], line[512];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  FILE *p;
  int status, benches = 0;
  char *slash;
  (void)argc;
  if (n <= 0) {
    fprintf(stderr, "%s: cannot find my own path\n", argv[0]);
    return 1;
  }
  self[n] = 0;
  slash = strrchr(self, '/');
  if (slash == NULL)
    return 1;
  *slash = 0;
  snprintf(cmd, sizeof cmd,
           "'%s/ethp2p' sim --network 100 --duration 5m --lookups 20 --seed 1 --bench", self);
  p = popen(cmd, "r");
  if (p == NULL) {
    perror("popen");
    return 1;
  }
  while (fgets(line, sizeof line, p) != NULL) {
    if (strncmp(line, "BENCH ", 6) == 0) {
      benches++;
      fputs(line, stdout);
    } else if (strncmp(line, "tables", 6) == 0 || strncmp(line, "lookups", 7) == 0 ||
               strncmp(line, "trace hash", 10) == 0 || strncmp(line, "wall", 4) == 0) {
      printf("# %s", line);
    }
  }
  status = pclose(p);
  if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0 || benches == 0) {
    fprintf(stderr, "bench_p2p_simnet: %s failed\n", cmd);
    return 1;
  }
  return 0;
}
