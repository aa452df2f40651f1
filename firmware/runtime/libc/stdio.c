/* stdout and stderr of the firmware C library.
 *
 * Formatting is musl's (vfprintf and the snprintf family, built from the musl
 * sources in the ziglang wheel by toolchain/libc.py, where vfprintf is renamed
 * __iss_musl_vfprintf): %f %e %g %a in soft float, %lld, widths, precision,
 * positional arguments. What is ours is where the characters go: the
 * simulator's stdout peripheral, one PUTC register per core, which collects a
 * line per core so lines of different cores never interleave. Every call
 * formats through a FILE on the caller's stack, so cores print at the same
 * time without sharing a buffer or a lock. */
#include "stdio_impl.h"
#include <stdarg.h>
#include <stdint.h>
#include <string.h>
#include <errno.h>
#include <wchar.h>
#include "archi.h"

int __iss_musl_vfprintf(FILE *restrict f, const char *restrict fmt, va_list ap);

static volatile uint32_t *console_register(void)
{
    uint32_t hart;
    __asm__("mv %0, tp" : "=r"(hart)); /* the start-up code keeps mhartid in tp */
    return (volatile uint32_t *)(ARCHI_STDOUT_BASE + (((hart >> 5) & 0x3f) << 7) + ((hart & 0x1f) << 3));
}

/* musl's write hook: send what is buffered, then s[0..len). */
static size_t console_write(FILE *f, const unsigned char *s, size_t len)
{
    volatile uint32_t *reg = console_register();
    for (unsigned char *p = f->wbase; p < f->wpos; p++)
        *reg = *p;
    for (size_t i = 0; i < len; i++)
        *reg = s[i];
    f->wpos = f->wbase = f->buf;
    f->wend = f->buf + f->buf_size;
    return len;
}

#define CONSOLE(f, storage)                                                        \
    unsigned char storage[64];                                                     \
    FILE f = {.flags = F_NORD, .lbf = EOF, .write = console_write, .lock = -1,     \
              .buf = storage, .buf_size = sizeof storage}

static void console_flush(FILE *f)
{
    if (f->wpos != f->wbase)
        f->write(f, 0, 0);
}

#undef stdin
#undef stdout
#undef stderr
/* The shared objects only identify the streams; output never goes through them. */
hidden FILE __stdin_FILE = {.flags = F_PERM | F_NOWR, .lock = -1};
hidden FILE __stdout_FILE = {.flags = F_PERM | F_NORD, .lbf = '\n', .lock = -1};
hidden FILE __stderr_FILE = {.flags = F_PERM | F_NORD, .lbf = EOF, .lock = -1};
FILE *const stdin = &__stdin_FILE;
FILE *const stdout = &__stdout_FILE;
FILE *const stderr = &__stderr_FILE;

static int is_console(FILE *f) { return f == &__stdout_FILE || f == &__stderr_FILE; }

int vfprintf(FILE *restrict f, const char *restrict fmt, va_list ap)
{
    if (!is_console(f))
        return __iss_musl_vfprintf(f, fmt, ap);
    CONSOLE(c, storage);
    int n = __iss_musl_vfprintf(&c, fmt, ap);
    console_flush(&c);
    return n;
}

int vprintf(const char *restrict fmt, va_list ap) { return vfprintf(&__stdout_FILE, fmt, ap); }

int printf(const char *restrict fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vfprintf(&__stdout_FILE, fmt, ap);
    va_end(ap);
    return n;
}

int fprintf(FILE *restrict f, const char *restrict fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vfprintf(f, fmt, ap);
    va_end(ap);
    return n;
}

/* musl's vfprintf writes through this: into the FILE's buffer, through its
 * write hook when full. */
hidden size_t __fwritex(const unsigned char *restrict s, size_t len, FILE *restrict f)
{
    if (!f->wend && __towrite(f))
        return 0;
    if (len > (size_t)(f->wend - f->wpos))
        return f->write(f, s, len);
    memcpy(f->wpos, s, len);
    f->wpos += len;
    return len;
}

size_t fwrite(const void *restrict src, size_t size, size_t nmemb, FILE *restrict f)
{
    size_t len = size * nmemb;
    if (!len)
        return 0;
    size_t n;
    if (is_console(f)) {
        CONSOLE(c, storage);
        n = __fwritex(src, len, &c);
        console_flush(&c);
    } else {
        n = __fwritex(src, len, f);
    }
    return n == len ? nmemb : n / size;
}

int fputs(const char *restrict s, FILE *restrict f)
{
    size_t len = strlen(s);
    return fwrite(s, 1, len, f) == len ? 0 : EOF;
}

int fputc(int c, FILE *f)
{
    unsigned char ch = (unsigned char)c;
    return fwrite(&ch, 1, 1, f) == 1 ? ch : EOF;
}

int putc(int c, FILE *f) { return fputc(c, f); }
int putchar(int c) { return fputc(c, &__stdout_FILE); }

int puts(const char *s)
{
    if (fputs(s, &__stdout_FILE) < 0)
        return EOF;
    return putchar('\n') < 0 ? EOF : 0;
}

void perror(const char *msg)
{
    if (msg && *msg)
        fprintf(&__stderr_FILE, "%s: %s\n", msg, strerror(errno));
    else
        fprintf(&__stderr_FILE, "%s\n", strerror(errno));
}

int fflush(FILE *f) { (void)f; return 0; }

/* Nothing to read from: input streams are always at end of file. */
int getchar(void) { return EOF; }
int fgetc(FILE *f) { (void)f; return EOF; }
int getc(FILE *f) { (void)f; return EOF; }

/* musl's stdio takes these around each call; the console FILEs have no lock
 * (lock = -1) and other FILEs belong to one core. */
hidden int __lockfile(FILE *f) { (void)f; return 0; }
hidden void __unlockfile(FILE *f) { (void)f; }

/* %lc and %ls: wide characters as UTF-8 (the only locale here). */
size_t wcrtomb(char *restrict s, wchar_t wc, mbstate_t *restrict st)
{
    (void)st;
    uint32_t c = (uint32_t)wc;
    if (!s)
        return 1;
    if (c < 0x80) {
        s[0] = (char)c;
        return 1;
    }
    if (c < 0x800) {
        s[0] = (char)(0xC0 | (c >> 6));
        s[1] = (char)(0x80 | (c & 0x3F));
        return 2;
    }
    if (c < 0x10000) {
        if (c >= 0xD800 && c < 0xE000)
            goto bad;
        s[0] = (char)(0xE0 | (c >> 12));
        s[1] = (char)(0x80 | ((c >> 6) & 0x3F));
        s[2] = (char)(0x80 | (c & 0x3F));
        return 3;
    }
    if (c < 0x110000) {
        s[0] = (char)(0xF0 | (c >> 18));
        s[1] = (char)(0x80 | ((c >> 12) & 0x3F));
        s[2] = (char)(0x80 | ((c >> 6) & 0x3F));
        s[3] = (char)(0x80 | (c & 0x3F));
        return 4;
    }
bad:
    errno = EILSEQ;
    return (size_t)-1;
}

int wctomb(char *s, wchar_t wc) { return s ? (int)wcrtomb(s, wc, 0) : 0; }

/* musl's __towrite asks for this so buffered FILEs get flushed at exit; the
 * console is written through at every call, so there is nothing to flush. */
hidden void __stdio_exit_needed(void) {}
