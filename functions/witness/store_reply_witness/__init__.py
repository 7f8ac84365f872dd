"""The persistence witness: counts, from the table's stream, the messages each version really wrote."""
