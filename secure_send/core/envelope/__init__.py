"""The envelope around a drop: the sender's signed manifest and recipients' receipts."""
