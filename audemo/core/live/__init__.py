r"""Live audio: streams and the server of ``audemo serve``."""
