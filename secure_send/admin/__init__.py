"""The IT administrator's side: organisation home, directory publishing, imports."""
