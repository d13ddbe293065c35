"""What Azure decides for one flow once routes exist (L6, pure functions; issue 14).

Section numbers (§) refer to ``shared/azure-traffic.md``.  Inputs are the same as the
Azure views': the network, the plan and the routers' snapshots.

- :mod:`.flow`: the flow (5-tuple) and the integer address and port sets rules match with.
- :mod:`.tags`: service tags per subnet (§3, decisions §9.1 and §9.2).
- :mod:`.nsg`: the default rules, NSG evaluation (§2), effective security rules (§4.1) and
  IP flow verify (§4.2).
- :mod:`.firewall`: Azure Firewall's decision for one flow at L3/L4 (§7, decisions §9.8
  and §9.9).
- :mod:`.index`: the converged network indexed once for traffic questions (owners of
  addresses, on-prem hosts, per-subnet effective routes and tags).
- :mod:`.nexthop`: next hop (§4.3, decision §9.4).
- :mod:`.hops`, :mod:`.walk`, :mod:`.trace`: a flow traced hop by hop, its reply too
  (§5), and the connection troubleshoot answer (§4.4, decisions §9.5, §9.6, §9.11, §9.12).
- :mod:`.pitfalls`: the pitfalls of §6 a trace shows, as warnings.
"""
