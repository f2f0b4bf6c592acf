/* test_cli.c: the bandmate binary's command dispatch and --help on every subcommand. */
#include "test.h"

TEST(cli_help_lists_commands)
{
    char cmd[1024], out[8192];
    snprintf(cmd, sizeof cmd, "%s/bandmate --help", test_bindir());
    CHECK_EQ_INT(test_run(cmd, out, sizeof out, 10), 0);
    CHECK_STR_CONTAINS(out, "render");
    CHECK_STR_CONTAINS(out, "run");
}

TEST(cli_unknown_command_is_one_clear_error)
{
    char cmd[1024], out[8192];
    snprintf(cmd, sizeof cmd, "%s/bandmate frobnicate", test_bindir());
    CHECK_EQ_INT(test_run(cmd, out, sizeof out, 10), 2);
    CHECK_STR_CONTAINS(out, "'frobnicate' is not a command");
}
