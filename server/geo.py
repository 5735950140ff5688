"""Distances on the earth's surface."""
import math

EARTH_RADIUS_M = 6_371_008.8
METRES_PER_DEGREE_LAT = 111_320.0


def haversine_m(lat1, lng1, lat2, lng2):
    """Great-circle distance in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))


def bounding_box(lat, lng, radius_m):
    """(south, west, north, east) of a box that contains the circle, for an indexed pre-filter."""
    dlat = radius_m / METRES_PER_DEGREE_LAT
    dlng = radius_m / (METRES_PER_DEGREE_LAT * max(math.cos(math.radians(lat)), 0.01))
    return lat - dlat, lng - dlng, lat + dlat, lng + dlng


CELL_DEGREES = 0.01  # about 1.1 km by 0.9 km around Jining


def cell_of(lat, lng):
    """The grid cell (0.01° square) a point lies in, as one indexable integer."""
    return math.floor(lat / CELL_DEGREES) * 100_000 + math.floor(lng / CELL_DEGREES)


def cells_covering(south, west, north, east):
    """Every cell that meets the box: an exact index lookup instead of a scan of a latitude strip."""
    return [row * 100_000 + col
            for row in range(math.floor(south / CELL_DEGREES), math.floor(north / CELL_DEGREES) + 1)
            for col in range(math.floor(west / CELL_DEGREES), math.floor(east / CELL_DEGREES) + 1)]
