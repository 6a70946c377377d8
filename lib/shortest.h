/* shortest: the shortest "%.Pg" of a binary float, without printf.
 *
 * Collecting a logdir prints two numbers a row (a wall time, a value), and
 * printf's exact binary-to-decimal conversion plus a strtod/strtof check
 * per candidate precision was most of `tfevents collect`'s time. Here a
 * float's exact value m * 2^e is written as an integer N * 10^-k in 128-bit
 * arithmetic, its decimal digits are rounded to P places as printf rounds
 * them (to nearest, ties to even on the exact value), and whether those
 * digits read back as the same float is decided exactly, by comparing them
 * with the midpoints to the neighbouring floats -- what a correctly
 * rounding strtod/strtof does. The text is laid out as "%.Pg" would.
 *
 * That covers the numbers whose N fits: floats from 2^-19 (1.9e-6) and
 * doubles from 2^23 (8.4e6: wall times) up to 2^122 (5.3e36). Others, and
 * zero, are declined (-1), and the caller uses printf. Pure; thread-safe. */
#ifndef TFEVENTS_SHORTEST_H
#define TFEVENTS_SHORTEST_H

#include <stddef.h>

/* The first of "%.Pg" for P = pmin..pmax (1 <= pmin <= pmax <= 17) whose
 * text reads back as f (strtof), or the pmax one; as snprintf would write
 * it into buf. Returns its length, or -1 when declined (buf untouched). */
int shortest_float(char *buf, size_t size, float f, int pmin, int pmax);

/* The same for a double, read back with strtod. */
int shortest_double(char *buf, size_t size, double d, int pmin, int pmax);

#endif
