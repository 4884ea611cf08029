"""The daemons' main loops: noded now; masterd, rapi, confd and mond later."""
