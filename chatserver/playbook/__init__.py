"""The shop's service playbook: the tone coach (and, as it grows, resolutions and reviews)."""
