"""The review desk: configuration changes as change requests, reviewed before a merge.

Nothing here imports Textual or libvirt: libvirt is reached through a DomainConfigPort that
the app binds to the hosts' backends.
"""
