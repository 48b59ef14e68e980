"""DICOM Print Management (PS3.4 Annex H): a print SCP that renders film boxes
to PNG and PDF sheets of the film's true size (:mod:`.scp`, :mod:`.render`,
:mod:`.sheetfile`) and a print SCU (:mod:`.scu`)."""

from __future__ import annotations

from .film import FILM_SIZES, film_inches, film_pixels, layout
from .render import FilmLayout, ImageBoxContent, PresentationLut, render
from .scp import PrintServer, make_print_ae
from .sopclasses import BASIC_COLOR_PRINT_META, BASIC_GRAYSCALE_PRINT_META

__all__ = [
    "BASIC_COLOR_PRINT_META",
    "BASIC_GRAYSCALE_PRINT_META",
    "FILM_SIZES",
    "FilmLayout",
    "ImageBoxContent",
    "PresentationLut",
    "PrintServer",
    "film_inches",
    "film_pixels",
    "layout",
    "make_print_ae",
    "render",
]
