/*
 * nat/doctor_upnp.c — the UPnP device details the doctor shows (search target, SERVER,
 * LOCATION, device type, friendly name, services, the WAN service chosen and why).
 *
 * No search of its own: the doctor's UPnP probe is the node's UPnP client
 * (ethp2p_nat_create with --nat upnp), and this file copies what that client's discovery
 * found (upnp_discovery_info, nat/upnp_watch.h) into the report before the client is
 * destroyed.  So the doctor shows exactly the device and service the node would use, and
 * never a reply the node would reject (a LOCATION on another host than the sender, a
 * description on another host, a service with NAT off).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nat/doctor_impl.h"
#include "nat/upnp_watch.h"

_Static_assert(ETHP2P_DOCTOR_MAX_SERVICES == UPNP_DISC_MAX_SERVICES,
               "the report holds every service the discovery keeps");

void doctor_upnp_collect(ethp2p_doctor *d, const ethp2p_nat *nat) {
  ethp2p_doctor_upnp *s = &d->r.upnp;
  upnp_disc_info *info;
  const upnp_disc_device *dev;
  if (nat == NULL || s->collected)
    return;
  /* About 25 KiB: on the heap, not the loop's stack. */
  if ((info = calloc(1, sizeof *info)) == NULL)
    return;
  if (!upnp_discovery_info(nat, info) || info->ndevices == 0) {
    free(info);
    return;
  }
  s->collected = true;
  s->answered = true;
  s->devices_found = info->ndevices;
  /* The device chosen, else the first that answered (its description or services failed). */
  dev = &info->devices[info->chosen ? info->chosen_device : 0];
  snprintf(s->st, sizeof s->st, "%s", dev->st);
  snprintf(s->server, sizeof s->server, "%s", dev->server);
  snprintf(s->location, sizeof s->location, "%s", dev->location);
  s->desc_ok = dev->desc_ok;
  s->desc_status = dev->desc_status;
  snprintf(s->device_type, sizeof s->device_type, "%s", dev->device_type);
  snprintf(s->friendly_name, sizeof s->friendly_name, "%s", dev->friendly_name);
  s->nservices = 0;
  for (size_t i = 0; i < dev->nservices && i < ETHP2P_DOCTOR_MAX_SERVICES; i++)
    snprintf(s->services[s->nservices++], sizeof s->services[0], "%s", dev->services[i]);
  if (info->chosen) {
    snprintf(s->chosen_service, sizeof s->chosen_service, "%s", info->chosen_service);
    snprintf(s->choice, sizeof s->choice, "%s", info->why);
  }
  free(info);
}
