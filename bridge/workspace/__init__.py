"""The git workspace: repository detection, state refs from disk, safe paths, the local sidecar."""
