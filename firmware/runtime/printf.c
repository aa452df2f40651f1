/* printf for the simulator's stdout peripheral: each core writes to its own
 * PUTC register, so lines from different cores never interleave. Supports
 * %d %i %u %x %X %o %c %s %p %%, flags '-' '0' '+' ' ', width, precision for
 * strings, and the l/ll/z/h length modifiers. */
#include "pmsis.h"

typedef struct {
    char *buf;        /* NULL: to the PUTC register */
    size_t size, len;
} sink_t;

static void emit(sink_t *s, char c)
{
    if (s->buf) {
        if (s->len + 1 < s->size)
            s->buf[s->len] = c;
    } else {
        volatile uint32_t *putc = (volatile uint32_t *)(ARCHI_STDOUT_BASE + (pi_cluster_id() << 7) + (pi_core_id() << 3));
        *putc = (unsigned char)c;
    }
    s->len++;
}

static void emit_padded(sink_t *s, const char *text, int len, int width, int left, char pad)
{
    if (!left && pad == '0' && (*text == '-' || *text == '+' || *text == ' ') && len) {
        emit(s, *text++);
        len--;
        width--;
    }
    if (!left)
        for (int i = len; i < width; i++)
            emit(s, pad);
    for (int i = 0; i < len; i++)
        emit(s, text[i]);
    if (left)
        for (int i = len; i < width; i++)
            emit(s, ' ');
}

static int format(sink_t *s, const char *fmt, va_list ap)
{
    char tmp[24];
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            emit(s, *fmt);
            continue;
        }
        int left = 0, plus = 0, space = 0, width = 0, prec = -1, lng = 0;
        char pad = ' ';
        for (;; fmt++) {
            if (fmt[1] == '-') left = 1;
            else if (fmt[1] == '0') pad = '0';
            else if (fmt[1] == '+') plus = 1;
            else if (fmt[1] == ' ') space = 1;
            else break;
        }
        fmt++;
        if (*fmt == '*') { width = va_arg(ap, int); fmt++; }
        while (*fmt >= '0' && *fmt <= '9')
            width = width * 10 + (*fmt++ - '0');
        if (*fmt == '.') {
            prec = 0;
            fmt++;
            if (*fmt == '*') { prec = va_arg(ap, int); fmt++; }
            while (*fmt >= '0' && *fmt <= '9')
                prec = prec * 10 + (*fmt++ - '0');
        }
        while (*fmt == 'l' || *fmt == 'h' || *fmt == 'z')
            lng += (*fmt++ == 'l');
        char conv = *fmt;
        if (!conv)
            break;
        if (conv == 'c') {
            tmp[0] = (char)va_arg(ap, int);
            emit_padded(s, tmp, 1, width, left, ' ');
        } else if (conv == 's') {
            const char *str = va_arg(ap, const char *);
            if (!str) str = "(null)";
            int len = 0;
            while (str[len] && (prec < 0 || len < prec))
                len++;
            emit_padded(s, str, len, width, left, ' ');
        } else if (conv == 'd' || conv == 'i' || conv == 'u' || conv == 'x' || conv == 'X' || conv == 'o' ||
                   conv == 'p') {
            unsigned long long v;
            int neg = 0;
            if (conv == 'p') {
                v = (uintptr_t)va_arg(ap, void *);
            } else if (conv == 'd' || conv == 'i') {
                long long sv = lng >= 2 ? va_arg(ap, long long) : lng ? va_arg(ap, long) : va_arg(ap, int);
                neg = sv < 0;
                v = neg ? 0ull - (unsigned long long)sv : (unsigned long long)sv;
            } else {
                v = lng >= 2 ? va_arg(ap, unsigned long long) : lng ? va_arg(ap, unsigned long) : va_arg(ap, unsigned);
            }
            unsigned base = (conv == 'x' || conv == 'X' || conv == 'p') ? 16 : conv == 'o' ? 8 : 10;
            const char *digits = conv == 'X' ? "0123456789ABCDEF" : "0123456789abcdef";
            char *end = tmp + sizeof tmp, *p = end;
            do {
                *--p = digits[v % base];
                v /= base;
            } while (v);
            if (conv == 'p') { *--p = 'x'; *--p = '0'; }
            if (neg) *--p = '-';
            else if (plus && (conv == 'd' || conv == 'i')) *--p = '+';
            else if (space && (conv == 'd' || conv == 'i')) *--p = ' ';
            emit_padded(s, p, (int)(end - p), width, left, left ? ' ' : pad);
        } else {
            emit(s, '%');
            emit(s, conv);
        }
    }
    return (int)s->len;
}

int vprintf(const char *fmt, va_list ap)
{
    sink_t s = {0, 0, 0};
    return format(&s, fmt, ap);
}

int printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vprintf(fmt, ap);
    va_end(ap);
    return n;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
    sink_t s = {buf, size, 0};
    va_list ap;
    va_start(ap, fmt);
    int n = format(&s, fmt, ap);
    va_end(ap);
    if (size)
        buf[s.len < size ? s.len : size - 1] = 0;
    return n;
}

int putchar(int c)
{
    sink_t s = {0, 0, 0};
    emit(&s, (char)c);
    return c;
}

int puts(const char *str)
{
    sink_t s = {0, 0, 0};
    while (*str)
        emit(&s, *str++);
    emit(&s, '\n');
    return 0;
}
