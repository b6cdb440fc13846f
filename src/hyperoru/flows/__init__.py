"""Flows: the steps that span domains.

A flow is a use case that needs more than one domain: a trader as the API shows it
(accounts' row + trading's valuation), saving a trader's strategy (checked against
prompts, programs and signals), the revocation fan-out (auth -> event bus -> every
process's token cache and /ws hub), the decision cycle's parts and the trader runtime's
start-up (``decision_parts``, ``decision_domain``). Routers and the runtime call flows;
a domain package never imports ``hyperoru.flows`` (tests/test_architecture.py checks
it), so each domain stays usable and testable on its own and the package graph has no
cycle.

Layers, lowest first: a package imports only packages before it in this list (the order
is ``LAYERS`` in tests/test_architecture.py, which holds every import to it;
docs/ARCHITECTURE.md "Layers" says why):

  kernel       __version__, settings, errors, timeutils, api_types, paging,
               logging_setup, domain, process_identity, offload, db
  edge         http, ratelimit, net, vault, exchanges, health
  identity     auth
  work         jobs, quotas
  market       market
  traders      accounts
  delivery     realtime
  execution    trading
  decisions    strategies, replay
  runtime      runtime (the scheduler, leases and clocks of strategies)
  authoring    prompts, programs, signals
  long jobs    backtests, prompt_backtests
  assembly     warmup, services (the shared-service container), flows, demo, app,
               cli
"""
