/*
 * hyvm top's keys, kvm_stat's set where it has one: they change the
 * console's state only; top_screen.c draws the result. Two keys open a
 * prompt on the bottom line (filter text, interval); Enter applies it,
 * Escape drops it.
 */
#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "top/top.h"
#include "top/top_vms.h"

#define MIN_INTERVAL 0.1
#define MAX_INTERVAL 60.0

const char *top_help_line(void)
{
	return "q quit  Tab VM  s sort  p pause  r reset  c raw  v vCPU  / filter  d+-  h help";
}

static void set_interval(struct top_ui *ui, double seconds)
{
	if (!(seconds >= MIN_INTERVAL && seconds <= MAX_INTERVAL)) {
		snprintf(ui->message, sizeof(ui->message), "interval must be %.1f to %.0f seconds",
			 MIN_INTERVAL, MAX_INTERVAL);
		return;
	}
	ui->interval = seconds;
	snprintf(ui->message, sizeof(ui->message), "interval %.2fs", seconds);
}

static void finish_prompt(struct top_ui *ui)
{
	char *end;

	if (ui->prompt == PROMPT_FILTER) {
		snprintf(ui->view->filter, sizeof(ui->view->filter), "%s", ui->input);
	} else if (ui->prompt == PROMPT_INTERVAL) {
		double s = strtod(ui->input, &end);
		if (end == ui->input || *end)
			snprintf(ui->message, sizeof(ui->message), "'%s' is not a number of seconds",
				 ui->input);
		else
			set_interval(ui, s);
	}
	ui->prompt = PROMPT_NONE;
}

static bool prompt_key(struct top_ui *ui, int key)
{
	size_t n = strlen(ui->input);

	switch (key) {
	case '\n':
	case '\r':
	case KEY_ENTER:
		finish_prompt(ui);
		break;
	case 27:	/* Escape */
		ui->prompt = PROMPT_NONE;
		break;
	case KEY_BACKSPACE:
	case 127:
	case 8:
		if (n)
			ui->input[n - 1] = 0;
		break;
	default:
		if (key >= 0x20 && key < 0x7f && n + 1 < sizeof(ui->input)) {
			ui->input[n] = (char)key;
			ui->input[n + 1] = 0;
		}
		break;
	}
	return true;
}

bool top_handle_key(struct top_ui *ui, int key)
{
	if (ui->prompt != PROMPT_NONE)
		return prompt_key(ui, key);
	ui->message[0] = 0;
	switch (key) {
	case 'q':
	case 'Q':
		ui->quit = true;
		return false;
	case 's':
		ui->view->sort = (ui->view->sort + 1) % SORT_COUNT;
		snprintf(ui->message, sizeof(ui->message), "sorted by %s",
			 top_sort_name(ui->view->sort));
		return true;
	case 'p':
	case ' ':
		ui->paused = !ui->paused;
		return true;
	case 'r':
		top_view_reset(ui->view);
		snprintf(ui->message, sizeof(ui->message), "totals reset");
		return true;
	case 'c':
		ui->view->raw = !ui->view->raw;
		return true;
	case '\t':
	case 'n':
		if (ui->vms->n < 2) {
			snprintf(ui->message, sizeof(ui->message), "top watches one VM%s",
				 ui->vms->follow ? " (so far)" : ": run it without a PID for all");
			return true;
		}
		top_ui_select(ui, (ui->sel + 1) % ui->vms->n);
		return true;
	case KEY_BTAB:
	case 'N':
		if (ui->vms->n > 1)
			top_ui_select(ui, (ui->sel + ui->vms->n - 1) % ui->vms->n);
		return true;
	case 'v': {
		uint32_t n = ui->view->cur.nr_vcpus ? ui->view->cur.nr_vcpus : 1;
		ui->view->vcpu = (ui->view->vcpu + 1) % n;
		if (n == 1)
			snprintf(ui->message, sizeof(ui->message), "this VM has one vCPU");
		return true;
	}
	case '/':
	case 'f':
		ui->prompt = PROMPT_FILTER;
		snprintf(ui->input, sizeof(ui->input), "%s", ui->view->filter);
		return true;
	case 'd':
		ui->prompt = PROMPT_INTERVAL;
		ui->input[0] = 0;
		return true;
	case '+':
		set_interval(ui, ui->interval * 2);
		return true;
	case '-':
		set_interval(ui, ui->interval / 2);
		return true;
	case 'h':
	case '?':
		ui->help = !ui->help;
		return true;
	case KEY_RESIZE:
		return true;
	default:
		return false;
	}
}
