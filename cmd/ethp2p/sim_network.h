/*
 * cmd/ethp2p/sim_network.h — `ethp2p sim --network N`: many real nodes
 * (server + discv4) in one simulated world behind every kind of NAT.
 */
#ifndef ETHP2P_CMD_SIM_NETWORK_H
#define ETHP2P_CMD_SIM_NETWORK_H

/* True if argv asks for the network mode (an argument "--network" or
 * "--network=N", or "network" as the first argument). */
int ethp2p_sim_network_wanted(int argc, char **argv);

/* The command (argv[0] is "sim").  Returns a CLI_EXIT_* status. */
int ethp2p_sim_network_cmd(int argc, char **argv);

#endif
