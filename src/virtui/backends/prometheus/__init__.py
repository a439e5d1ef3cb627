"""A fleet backend: domains read from a Prometheus that scrapes prometheus-libvirt-exporter."""
