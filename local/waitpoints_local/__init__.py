"""waitpoints_local: the whole service on one machine, on moto's emulated AWS, with the real handlers."""
