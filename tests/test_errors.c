/* test_errors.c: bad input gets one clear sentence on stderr and a non-zero exit, never a crash or
 * a hang: damaged and missing files, bad options, bad patches, no JACK server, absent devices. */
#include "test.h"
#include "jackd.h"

#include <unistd.h>

static void expect_error(const char *args, int want_rc, const char *want)
{
    char cmd[2048], out[8192];
    snprintf(cmd, sizeof cmd, "cd %s && %s/bandmate %s", test_tmpdir(), test_bindir()[0] == '/' ? test_bindir() : "", args);
    if (test_bindir()[0] != '/') {
        char cwd[1024];
        if (!getcwd(cwd, sizeof cwd)) test_fail(__FILE__, __LINE__, "getcwd");
        snprintf(cmd, sizeof cmd, "cd %s && %s/%s/bandmate %s", test_tmpdir(), cwd, test_bindir(), args);
    }
    int rc = test_run(cmd, out, sizeof out, 20);
    CHECKF(rc == want_rc, "'bandmate %s' exited %d (expected %d): %s", args, rc, want_rc, out);
    CHECKF(strstr(out, want), "'bandmate %s' did not say \"%s\": %s", args, want, out);
    int lines = 0;
    for (const char *c = out; *c; c++) lines += *c == '\n';
    CHECKF(lines == 1, "'bandmate %s' printed %d lines, expected one sentence: %s", args, lines, out);
    CHECKF(!strstr(out, "Sanitizer") && !strstr(out, "runtime error"), "sanitizer report: %s", out);
}

static void write_file(const char *name, const void *data, size_t n)
{
    FILE *f = fopen(test_path(name), "wb");
    CHECK(f);
    fwrite(data, 1, n, f);
    fclose(f);
}

static void copy_prefix(const char *from, const char *name, size_t n)
{
    FILE *f = fopen(from, "rb");
    CHECK(f);
    char buf[4096];
    size_t got = fread(buf, 1, n < sizeof buf ? n : sizeof buf, f);
    fclose(f);
    write_file(name, buf, got);
}

TEST(errors_render_bad_midi_files)
{
    char cwd[1024];
    CHECK(getcwd(cwd, sizeof cwd));
    char melody[1100];
    snprintf(melody, sizeof melody, "%s/examples/melody.mid", cwd);
    expect_error("render --in missing.mid --out-mid o.mid", 1, "cannot open missing.mid");
    write_file("garbage.mid", "this is not music at all, just text\n", 36);
    expect_error("render --in garbage.mid --out-mid o.mid", 1, "not a Standard MIDI File");
    copy_prefix(melody, "truncated.mid", 200);
    expect_error("render --in truncated.mid --out-mid o.mid", 1, "truncated");
    write_file("empty.mid", "", 0);
    expect_error("render --in empty.mid --out-mid o.mid", 1, "not a Standard MIDI File");
    expect_error("render --in . --out-mid o.mid", 1, "not a usable MIDI file");
}

TEST(errors_render_bad_options)
{
    expect_error("render --out-mid o.mid", 2, "--in HUMAN.mid");
    expect_error("render --in x.mid", 2, "--out-mid, --out-wav and/or --out-png");
    expect_error("render --in x.mid --out-mid o.mid --tempo fast", 2, "--tempo wants a number");
    expect_error("render --in x.mid --out-mid o.mid --tempo 9000", 2, "outside");
    expect_error("render --in x.mid --out-mid o.mid --frobnicate", 2, "not an option");
    expect_error("render --in x.mid --out-mid o.mid extra", 2, "unexpected 'extra'");
    expect_error("render --in x.mid --out-mid o.mid --seed -3", 2, "whole number");
}

TEST(errors_render_unwritable_output)
{
    char cwd[1024];
    CHECK(getcwd(cwd, sizeof cwd));
    char args[2048];
    snprintf(args, sizeof args, "render --in %s/examples/melody.mid --out-mid /nonexistent/dir/o.mid", cwd);
    expect_error(args, 1, "cannot write /nonexistent/dir/o.mid");
    snprintf(args, sizeof args, "render --in %s/examples/melody.mid --out-wav /nonexistent/dir/o.wav", cwd);
    expect_error(args, 1, "cannot write /nonexistent/dir/o.wav");
}

TEST(errors_bad_patches)
{
    char cwd[1024], args[2048];
    CHECK(getcwd(cwd, sizeof cwd));
    const char *in = "--out-mid o.mid --in ";
    snprintf(args, sizeof args, "render --patch nope.lua %s%s/examples/melody.mid", in, cwd);
    expect_error(args, 1, "the patch nope.lua does not exist");
    struct { const char *name, *text, *want; } cases[] = {
        {"syntax.lua", "return { mode = 'echo' ", "has an error"},
        {"runtime.lua", "local x = nil; return x.y", "has an error"},
        {"notatable.lua", "return 42", "must return a table"},
        {"typo.lua", "return { tempi = 120 }", "'tempi' is not a field"},
        {"range.lua", "return { tempo = 1000 }", "outside"},
        {"mode.lua", "return { mode = 'polka' }", "mode 'polka'"},
        {"type.lua", "return { tempo = 'fast' }", "tempo must be a number"},
        {"part.lua", "return { parts = { tuba = {} } }", "'tuba' is not a field"},
        {"inst.lua", "return { parts = { bass = { instrument = 'kazoo' } } }", "'kazoo' is not an instrument"},
        {"loop.lua", "while true do end", "ran too long"},
        {"bomb.lua", "local t = {} for i = 1, 1e9 do t[i] = string.rep('x', 1000) .. i end", "has an error"},
        {"sandbox.lua", "os.execute('touch pwned') return {}", "has an error"},
        {"binary.lua", "\x1bLua\x54\x00", "has an error"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        write_file(cases[i].name, cases[i].text, strlen(cases[i].text));
        snprintf(args, sizeof args, "render --patch %s %s%s/examples/melody.mid", cases[i].name, in, cwd);
        expect_error(args, 1, cases[i].want);
    }
    CHECK(access(test_path("pwned"), F_OK) != 0);
}

TEST(errors_run_without_a_jack_server)
{
    expect_error("run --server bm-no-such-server --no-record", 1, "no JACK server is running");
}

TEST_TIMEOUT(errors_run_with_absent_devices_and_ports, 60)
{
    test_jackd j;
    test_jackd_start(&j, 48000, 256);
    char args[512];
    snprintf(args, sizeof args, "run --server %s --no-record --pm-in 'Nonexistent Keyboard'", j.name);
    expect_error(args, 1, "no MIDI input device matches 'Nonexistent Keyboard'");
    snprintf(args, sizeof args, "run --server %s --no-record --pm-out 'Nonexistent Synth'", j.name);
    expect_error(args, 1, "no MIDI output device matches 'Nonexistent Synth'");
    snprintf(args, sizeof args, "run --server %s --no-record --out nowhere:left", j.name);
    expect_error(args, 1, "there is no JACK port named 'nowhere:left'");
    snprintf(args, sizeof args, "run --server %s --no-record --midi-in nowhere:midi", j.name);
    expect_error(args, 1, "there is no JACK port named 'nowhere:midi'");
    snprintf(args, sizeof args, "run --server %s --no-record --tempo-source moon", j.name);
    expect_error(args, 2, "--tempo-source 'moon'");
    snprintf(args, sizeof args, "run --server %s --record /proc/forbidden", j.name);
    expect_error(args, 1, "cannot create the recordings folder");
    test_jackd_stop(&j);
}

TEST(errors_every_subcommand_has_help)
{
    const char *cmds[] = {"run", "render", "devices", "bench"};
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        char cmd[1024], out[8192];
        snprintf(cmd, sizeof cmd, "%s/bandmate %s --help", test_bindir(), cmds[i]);
        CHECKF(test_run(cmd, out, sizeof out, 10) == 0, "%s --help failed: %s", cmds[i], out);
        CHECKF(strstr(out, "usage: bandmate"), "%s --help printed no usage: %s", cmds[i], out);
    }
}
