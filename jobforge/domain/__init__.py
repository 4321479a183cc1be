"""The shared vocabulary of jobforge: jobs, states, outcomes, backoff and tenants.

Nothing here performs I/O or imports any other part of jobforge.
"""
