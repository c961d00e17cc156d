"""Assemble and verify the offline site in dist/ (see build.py for the command line).

Modules, bottom up:
  files            hashing, and syncing a planned file tree into a folder
  npm              the pinned npm packages (Pyodide runtime + official lock, PyScript)
  pyodide_lock     the official pyodide-lock.json: which packages we ship, and their sha256
  wheels           wasm packages from the pinned PyPI carrier, verified against the lock
  pyodide_dist     the same from an official Pyodide distribution folder or tarball
  stored           the app's stdlib, NumPy and Pillow repacked uncompressed, and its own lock naming them
  app_wheel        our own cnn101 wheel, built from the repo
  examples         example images chosen from the dataset's validation split
  webmanifest      the installable-app manifest and its generated icons
  service_worker   sw.js, precaching every asset under a content-hashed cache name
  checks           static checks of the assembled site (PyScript config, links, outside URLs)
  site             the build itself: plan, verify, write dist/, build-info.json
  server           a small static server for dist/ with the right MIME types and gzip
"""


class BuildError(Exception):
    """A problem the user can fix; the message says what to do. The build stops and writes nothing."""
