/*
 * tests/support/integration_stun_server.c — the test STUN server for the
 * check_integration_* suites (the doctor's simulated world).
 *
 * The build compiles tests/support/<layer>_*.c into that layer's suites only,
 * and the server is needed by two layers (nat, integration).  Until the build
 * has a test-support library shared by both, this file compiles the one
 * source instead of keeping a second copy.
 */
#include "nat_stun_server.c"
