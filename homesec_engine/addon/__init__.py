"""Home Assistant add-on start-up: options, secrets, bootstrap config, database wait, discovery.

`homesec_engine.addon_entry` wires these small modules together; each one does one job and
takes its paths and URLs as arguments so it can be tested without Docker or a Supervisor.
"""
