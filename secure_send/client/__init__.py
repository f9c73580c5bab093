"""The Secure Send client: profile, device keys, server API and directory sync."""
