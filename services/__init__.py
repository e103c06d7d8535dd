"""The rules and the verbs of Parcours. Only this layer opens sessions and writes."""
