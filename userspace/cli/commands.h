/* hyvm's subcommands, one file each, dispatched from main's table. */
#ifndef HYVM_COMMANDS_H
#define HYVM_COMMANDS_H

#define HYVM_VERSION "0.1"

/* Exit statuses shared by the subcommands. */
#define EXIT_USAGE	2	/* bad input: flags, files, missing engine */
#define EXIT_SKIP	77	/* the engine cannot run this guest (automake's SKIP) */

int cmd_run(int argc, char **argv);
int cmd_engines(int argc, char **argv);
int cmd_ps(int argc, char **argv);
int cmd_top(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_disk(int argc, char **argv);
int cmd_ctl(int argc, char **argv);
int cmd_restore(int argc, char **argv);

#endif
