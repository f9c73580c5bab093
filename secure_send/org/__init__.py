"""The organisation library: the home folder, its log, publishing, imports and the
directory signer. Runs on IT's side only; the drop server never imports it."""
