"""Find the sheet in a photo and warp it flat; straighten scans that have no visible edge.

A phone photo of a form shows the sheet as the largest bright quadrilateral. Warping
that quadrilateral to a rectangle puts every field where the template says it is.
A flatbed scan has no page edge, so it is only rotated upright by its own ruled lines.
"""
from __future__ import annotations

import cv2
import imutils
import numpy as np

MIN_PAGE_FRACTION = 0.2  # a sheet smaller than this share of the photo is not the page
PAGE_EDGE_SUPPORT = 0.6  # share of a page outline that must lie on image edges
WORK_SIDE = 800  # page search runs on a copy this big: fast, and blur-tolerant


def order_points(pts: np.ndarray) -> np.ndarray:
    """Corners as top-left, top-right, bottom-right, bottom-left (imutils' order, without
    its SciPy import, which would cost the runtime's cold start)."""
    pts = np.asarray(pts, np.float32).reshape(4, 2)
    s, d = pts.sum(axis=1), np.diff(pts, axis=1).ravel()
    return np.float32([pts[s.argmin()], pts[d.argmin()], pts[s.argmax()], pts[d.argmax()]])


def quad_size(quad: np.ndarray) -> tuple[int, int]:
    """(w, h) of the rectangle a quadrilateral flattens to: its longer opposite edges."""
    tl, tr, br, bl = quad
    w = max(np.linalg.norm(tr - tl), np.linalg.norm(br - bl))
    h = max(np.linalg.norm(bl - tl), np.linalg.norm(br - tr))
    return max(int(round(w)), 1), max(int(round(h)), 1)


def to_gray_u8(image: np.ndarray) -> np.ndarray:
    """Any 8-bit OpenCV image -> single-channel uint8."""
    if image.ndim == 2:
        return image
    code = cv2.COLOR_BGRA2GRAY if image.shape[2] == 4 else cv2.COLOR_BGR2GRAY
    return cv2.cvtColor(image, code)


def find_page(image: np.ndarray, min_fraction: float | None = None) -> np.ndarray | None:
    """Corners (4, 2) float32 of the sheet in image pixels, or None when no page edge shows.

    Candidates are the four-sided outlines of the bright region (Otsu, robust to
    handwriting) and of the edge map (Canny, robust to a shadow that darkens half
    the sheet). A candidate counts only if real edges run along its sides; the
    largest such one is the sheet.
    """
    min_fraction = MIN_PAGE_FRACTION if min_fraction is None else min_fraction
    gray = to_gray_u8(image)
    scale = min(WORK_SIDE / max(gray.shape), 1.0)
    small = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else gray
    blur = cv2.GaussianBlur(small, (5, 5), 0)
    _, bright = cv2.threshold(blur, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    bright = cv2.morphologyEx(bright, cv2.MORPH_CLOSE, np.ones((9, 9), np.uint8))
    edges = cv2.Canny(blur, 30, 90)
    closed = cv2.morphologyEx(cv2.dilate(edges, np.ones((3, 3), np.uint8)), cv2.MORPH_CLOSE, np.ones((7, 7), np.uint8))
    area_min = min_fraction * small.shape[0] * small.shape[1]
    best, best_area = None, 0.0
    for mask in (bright, closed):
        contours = imutils.grab_contours(cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE))
        for c in sorted(contours, key=cv2.contourArea, reverse=True)[:3]:
            quad = quad_of(c) if cv2.contourArea(c) >= area_min else None
            if quad is None or touches_all_borders(quad, small.shape):
                continue
            area = cv2.contourArea(quad)
            if (area > best_area and outline_support(edges, quad) >= PAGE_EDGE_SUPPORT
                    and brighter_inside(blur, quad)):
                best, best_area = quad, area
    return None if best is None else (best / scale).astype(np.float32)


def brighter_inside(gray: np.ndarray, quad: np.ndarray, contrast: float = 15.0) -> bool:
    """A sheet is lighter than what lies around it; a box printed on the page is not."""
    inside = np.zeros_like(gray)
    cv2.fillConvexPoly(inside, quad.astype(np.int32), 255)
    k = np.ones((15, 15), np.uint8)
    ring_in = cv2.subtract(inside, cv2.erode(inside, k)) > 0
    ring_out = cv2.subtract(cv2.dilate(inside, k), inside) > 0
    if not ring_out.any():
        return False
    return float(np.median(gray[ring_in])) - float(np.median(gray[ring_out])) >= contrast


def outline_support(mask: np.ndarray, quad: np.ndarray, samples: int = 200) -> float:
    """Share of the quadrilateral's outline lying on the mask (edges, printed lines), with a
    tolerance of 1.5% of its size, since bent paper bows its edges a little."""
    h, w = mask.shape
    size = float((quad.max(axis=0) - quad.min(axis=0)).max())
    tol = max(5, int(0.015 * size)) | 1
    thick = cv2.dilate(mask, np.ones((tol, tol), np.uint8))
    hits = total = 0
    for a, b in zip(quad, np.roll(quad, -1, axis=0)):
        for t in np.linspace(0.05, 0.95, samples // 4):
            x, y = (a + t * (b - a)).astype(int)
            if 0 <= x < w and 0 <= y < h:
                total += 1
                hits += thick[y, x] > 0
    return hits / max(total, 1)


def quad_of(contour: np.ndarray, refine: bool = True) -> np.ndarray | None:
    """The contour's four corners when its convex hull is close to a quadrilateral
    (refined by fitting its straight sides unless `refine` is False: bent grids)."""
    hull = cv2.convexHull(contour)
    peri = cv2.arcLength(hull, True)
    for eps in (0.01, 0.02, 0.03, 0.05):
        approx = cv2.approxPolyDP(hull, eps * peri, True)
        if len(approx) == 4:
            quad = order_points(approx.reshape(4, 2).astype(np.float32))
            if not proper(quad):
                return None
            if cv2.contourArea(quad) > 0.85 * cv2.contourArea(hull):
                return refine_corners(contour.reshape(-1, 2).astype(np.float32), quad) if refine else quad
            return None
        if len(approx) < 4:
            return None
    return None


def proper(quad: np.ndarray) -> bool:
    """Four distinct corners in tl, tr, br, bl order making a convex shape (not a triangle
    whose corners the ordering doubled up)."""
    size = float((quad.max(axis=0) - quad.min(axis=0)).max())
    sides = np.linalg.norm(quad - np.roll(quad, 1, axis=0), axis=1)
    return bool(sides.min() > 0.05 * size and cv2.isContourConvex(quad.reshape(-1, 1, 2)))


def refine_corners(points: np.ndarray, quad: np.ndarray) -> np.ndarray:
    """Corners as the crossings of straight lines fitted to each side's contour points.

    The polygon approximation only picks contour points near the corners; a
    least-squares line through the middle of each side is far more exact, which
    is what lets a template's boxes land on the printed ones.
    """
    size = float((quad.max(axis=0) - quad.min(axis=0)).max())
    lines = []
    for a, b in zip(quad, np.roll(quad, -1, axis=0)):
        d = b - a
        length = float(np.hypot(*d))
        if length < 1:
            return quad
        u = d / length
        rel = points - a
        along = rel @ u
        off = np.abs(rel[:, 0] * u[1] - rel[:, 1] * u[0])
        near = (off < max(3.0, 0.02 * size)) & (along > 0.15 * length) & (along < 0.85 * length)
        if near.sum() < 5:
            return quad
        vx, vy, x0, y0 = cv2.fitLine(points[near], cv2.DIST_HUBER, 0, 0.01, 0.01).ravel()
        lines.append((np.float32([x0, y0]), np.float32([vx, vy])))
    corners = []
    for i in range(4):  # corner i is where side i-1 meets side i
        (p1, d1), (p2, d2) = lines[i - 1], lines[i]
        m = np.float32([[d1[0], -d2[0]], [d1[1], -d2[1]]])
        if abs(np.linalg.det(m)) < 1e-6:
            return quad
        t = np.linalg.solve(m, p2 - p1)
        corners.append(p1 + t[0] * d1)
    refined = np.float32(corners)
    if np.abs(refined - quad).max() > 0.05 * size:  # a side that is not straight: keep the approximation
        return quad
    return refined


def touches_all_borders(quad: np.ndarray, shape: tuple, margin: int = 3) -> bool:
    """A 'page' that is the whole frame is no page edge at all (a scan or a close-up)."""
    h, w = shape[:2]
    x0, y0 = quad.min(axis=0)
    x1, y1 = quad.max(axis=0)
    return x0 <= margin and y0 <= margin and x1 >= w - 1 - margin and y1 >= h - 1 - margin


def cut_by_frame(quad: np.ndarray, shape: tuple, margin: int = 3) -> bool:
    """Does a corner of this outline lie on the photo's edge? Then the sheet goes on beyond
    the photo: the outline is that of its visible part, and warping by it skews the page."""
    h, w = shape[:2]
    x, y = quad[:, 0], quad[:, 1]
    return bool(((x <= margin) | (y <= margin) | (x >= w - 1 - margin) | (y >= h - 1 - margin)).any())


def skew_angle(gray: np.ndarray, max_angle: float = 10.0) -> float:
    """Degrees to rotate a scan so its long ruled or printed lines run level (0 when unsure)."""
    ink = cv2.adaptiveThreshold(gray, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, 31, 15)
    min_len = max(gray.shape[1] // 6, 30)
    lines = cv2.HoughLinesP(ink, 1, np.pi / 720, threshold=min_len, minLineLength=min_len, maxLineGap=5)
    if lines is None:
        return 0.0
    x1, y1, x2, y2 = lines.reshape(-1, 4).T.astype(np.float64)
    angles = np.degrees(np.arctan2(y2 - y1, x2 - x1))
    level = angles[np.abs(angles) < max_angle]
    if len(level) < 2:
        return 0.0
    lengths = np.hypot(x2 - x1, y2 - y1)[np.abs(angles) < max_angle]
    order = np.argsort(level)
    cum = np.cumsum(lengths[order])
    return float(level[order][np.searchsorted(cum, cum[-1] / 2)])  # length-weighted median


def rotation(image: np.ndarray, angle: float) -> np.ndarray:
    """2x3 matrix rotating the image by `angle` degrees about its centre."""
    h, w = image.shape[:2]
    return cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)


def deskew(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(level scan, 3x3 map level pixel -> input pixel): rotated by its skew, paper-padded."""
    angle = skew_angle(to_gray_u8(image))
    if abs(angle) < 0.2:
        return image, np.eye(3)
    rot = rotation(image, angle)
    h, w = image.shape[:2]
    paper = np.median(image.reshape(-1, image.shape[2] if image.ndim == 3 else 1), axis=0)
    flat = cv2.warpAffine(image, rot, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                          borderValue=tuple(float(v) for v in np.atleast_1d(paper)))
    return flat, np.linalg.inv(np.vstack([rot, [0, 0, 1]]))


class Page:
    """A rectified sheet and the homography back to the input photo's pixels."""

    def __init__(self, image: np.ndarray, to_input: np.ndarray, found: bool):
        self.image = image
        self.to_input = to_input  # 3x3: rectified pixel -> input pixel
        self.found = found  # False when no page edge was seen and the photo was used as is


def sheet_quad(image: np.ndarray):
    """(image, quad, map image->input, found) of the sheet: the page outline in the photo,
    or the whole deskewed scan when no page edge shows."""
    quad = find_page(image)
    if quad is not None:
        return image, quad, np.eye(3), True
    flat, to_input = deskew(image)
    h, w = flat.shape[:2]
    return flat, np.float32([[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]]), to_input, False


def orientations(quad: np.ndarray, size: tuple[int, int]) -> list[int]:
    """Quarter turns worth trying: the sheet's own shape says portrait or landscape, so
    only 0/180 degrees (or only 90/270) can match the template's page."""
    w, h = quad_size(quad)
    same = (w >= h) == (size[0] >= size[1])
    return [0, 2] if same else [1, 3]


def turned(image: np.ndarray, quad: np.ndarray, to_input: np.ndarray, turns: int, size, found: bool) -> Page:
    """The sheet warped to `size` after `turns` quarter turns (corners taken in a rolled order)."""
    page = warp_quad(image, np.roll(order_points(quad), -turns, axis=0), size, found, ordered=True)
    page.to_input = to_input @ page.to_input
    return page


def rectify(image: np.ndarray, size: tuple[int, int] | None = None, find: bool = True) -> Page:
    """Warp the sheet flat (to `size` = (w, h) when given), or deskew when no edge shows."""
    quad = find_page(image) if find else None
    if quad is None:
        flat, to_input = deskew(image)
        if size is not None:
            h, w = image.shape[:2]
            sx, sy = size[0] / w, size[1] / h
            flat = cv2.resize(flat, size, interpolation=cv2.INTER_AREA if sx < 1 else cv2.INTER_LINEAR)
            to_input = to_input @ np.diag([1 / sx, 1 / sy, 1.0])
        return Page(flat, to_input, found=False)
    return warp_quad(image, quad, size, found=True)


def warp_quad(image: np.ndarray, quad: np.ndarray, size: tuple[int, int] | None = None,
              found: bool = True, ordered: bool = False) -> Page:
    """imutils' four_point_transform, to a chosen size, keeping the inverse homography.
    `ordered`: the corners are already in the wanted tl, tr, br, bl order (a turned page)."""
    quad = np.asarray(quad, np.float32) if ordered else order_points(quad)
    w, h = size if size is not None else quad_size(quad)
    dst = np.float32([[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]])
    m = cv2.getPerspectiveTransform(quad, dst)
    flat = cv2.warpPerspective(image, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return Page(flat, np.linalg.inv(m), found=found)
