/* hyvm top's parts: arguments shared by the batch and the screen. */
#ifndef HYVM_TOP_H
#define HYVM_TOP_H

#include <stdbool.h>
#include <sys/types.h>
#include "stats/stats.h"
#include "top/top_model.h"

struct top_args {
	bool batch, json;
	long count;		/* batch samples */
	double interval;	/* seconds */
	pid_t pid;
};

struct symtab;
/* The guest's symbols, or NULL when its ELF is gone or stripped. */
struct symtab *top_load_symbols(const struct stats_file *f);
struct top_vms;
/* The ncurses console (top_screen.c) on one VM or all; returns the exit
 * status. */
int top_screen_run(const struct top_args *a, struct top_vms *vms);

/* The console's state between keys and frames (top_screen.c draws it,
 * top_keys.c changes it). */
struct top_ui {
	struct top_vms *vms;
	int sel;		/* the VM whose tables are shown (index in vms) */
	struct top_view *view;	/* its view: vms->vm[sel].view */
	double interval;	/* seconds between samples */
	bool paused, help, quit;
	enum { PROMPT_NONE, PROMPT_FILTER, PROMPT_INTERVAL } prompt;
	char input[32];		/* what is typed at the prompt */
	char message[96];	/* one-shot line, e.g. a refused interval */
};

/* Shows VM index i, carrying the sort, filter and category/raw choice. */
void top_ui_select(struct top_ui *ui, int i);

/* Applies one key; true if the view changed and must be redrawn now. */
bool top_handle_key(struct top_ui *ui, int key);
/* The one-line summary of the keys at the bottom of the screen. */
const char *top_help_line(void);

#endif
