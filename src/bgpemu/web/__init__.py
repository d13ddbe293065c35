"""The web view of a running lab (issue 16, layer L10: above ``lab`` and ``observe``).

``bgpemu web`` (and ``lab up``) serve a page that draws the lab's topology as a graph,
colours its sessions by state as they change, shows a node's tables on click, the lab's
timeline, traffic traces and injections; pushed over one WebSocket (docs/web.md).
The pure core is :mod:`.elements`, :mod:`.view`, :mod:`.tables`, :mod:`.protocol` and
:mod:`.access`; :mod:`.server` is the thin shell over ``websockets`` and the MQTT adapter.
"""
