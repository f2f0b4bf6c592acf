/* version.h: bandmate's version string. */
#pragma once
#define BM_VERSION "0.1.0"
