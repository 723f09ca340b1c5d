"""`sm-train local`: its command line, the /opt/ml tree it lays out, and one launcher process per host."""
