/*
 * hyvm top's ncurses screen: a header, the exit table (kvm_stat's columns
 * plus perf kvm stat's times, with bars), the top exit addresses named by
 * the guest's symbols, and side by side the mode switches and the engine's
 * counters; a help line last. Space is shared out by what the terminal
 * has, from MIN_COLS x MIN_LINES up. Watching every VM (no PID), the header
 * is a line per VM instead, and the tables are those of the selected one.
 */
#include <curses.h>
#include <stdarg.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "top/symbols.h"
#include "top/top.h"
#include "top/top_vms.h"

#define MIN_COLS	60
#define MIN_LINES	16
#define TICK_MS		100

static void line_clear(int y)
{
	move(y, 0);
	clrtoeol();
}

static void title(int y, int x, int w, const char *text)
{
	attron(A_REVERSE);
	mvprintw(y, x, "%-*.*s", w, w, text);
	attroff(A_REVERSE);
}

static struct top_vm *cur_vm(struct top_ui *ui)
{
	return &ui->vms->vm[ui->sel];
}

/* One screen line, cut at the right edge (curses would wrap it). */
static void put(int y, int cols, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void put(int y, int cols, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	line_clear(y);
	mvprintw(y, 0, "%.*s", cols, buf);
}

static const char *base_name(const char *path)
{
	return strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
}

/* The selected VM's vCPU: engine, mode, exits and where the time goes. */
static void draw_vcpu_line(struct top_ui *ui, int y, int cols)
{
	struct top_header h;

	top_build_header(ui->view, &h);
	char pid[24] = "";

	if (ui->vms->follow)
		snprintf(pid, sizeof(pid), "pid %d ", cur_vm(ui)->pid);
	put(y, cols, "%svCPU %d/%u engine %s mode %s exits %llu %.0f/s guest %.1f%% vmm %.1f%%",
	    pid, ui->view->vcpu, ui->view->cur.nr_vcpus, h.engine, h.mode,
	    (unsigned long long)h.exits_total, h.exits_per_s, h.guest_pct, h.vmm_pct);
}

/* One VM: lines 0-1. */
static int draw_header_one(struct top_ui *ui, int cols)
{
	const struct stats_file *f = &ui->view->cur;
	struct top_header h;
	char state[48];

	top_build_header(ui->view, &h);
	if (cur_vm(ui)->state == TOP_VM_GONE)
		snprintf(state, sizeof(state), "GONE (process died)");
	else if (f->state == STATS_ENDED)
		snprintf(state, sizeof(state), "ended, status %d", f->exit_status);
	else
		snprintf(state, sizeof(state), "%s", ui->paused ? "running, PAUSED" : "running");
	attron(A_BOLD);
	put(0, cols, "hyvm top  pid %d  %.*s  %s  up %.1fs  every %.2fs", f->pid, cols / 3,
	    base_name(f->guest), state, h.uptime_s, ui->interval);
	attroff(A_BOLD);
	draw_vcpu_line(ui, 1, cols);
	return 2;
}

/* Every VM: a title, column names, a line per VM (scrolled to keep the
 * selected one in view), then the selected VM's vCPU line. Returns the
 * first free line. */
static int draw_header_all(struct top_ui *ui, int lines, int cols)
{
	struct top_vms *s = ui->vms;
	int shown = s->n < lines / 4 ? s->n : lines / 4, first = 0;
	int guest_w = cols - 65 < 6 ? 6 : cols - 65 > 40 ? 40 : cols - 65;

	if (shown < 1)
		shown = 1;
	if (ui->sel >= shown)
		first = ui->sel - shown + 1;
	attron(A_BOLD);
	put(0, cols, "hyvm top  %d VM%s, %d running  every %.2fs%s%s", s->n, s->n == 1 ? "" : "s",
	    top_vms_running(s), ui->interval, ui->paused ? "  PAUSED" : "",
	    s->n > shown ? "  (Tab: more)" : "");
	attroff(A_BOLD);
	char head[160];
	snprintf(head, sizeof(head), " %6s %-9s %-*s %-5s %-9s %6s %8s %6s %5s", "PID", "STATE",
		 guest_w, "GUEST", "ENGN", "MODE", "UPTIME", "EXITS/s", "GUEST%", "VMM%");
	title(1, 0, cols, head);
	for (int i = 0; i < shown; i++) {
		struct top_vm *vm = &s->vm[first + i];
		struct top_header h;
		char state[16];
		top_build_header(vm->view, &h);
		if (vm->state == TOP_VM_ENDED)
			snprintf(state, sizeof(state), "ended:%d", vm->view->cur.exit_status);
		else
			snprintf(state, sizeof(state), "%s", top_vm_state_name(vm));
		if (first + i == ui->sel)
			attron(A_BOLD);
		/* An ended VM's last rate is history: it makes no exits now. */
		put(2 + i, cols, "%c%6d %-9.9s %-*.*s %-5.5s %-9.9s %5.0fs %8.0f %6.1f %5.1f",
		    first + i == ui->sel ? '>' : ' ', vm->pid, state, guest_w, guest_w,
		    base_name(vm->view->cur.guest), h.engine, h.mode, h.uptime_s,
		    vm->state == TOP_VM_RUNNING ? h.exits_per_s : 0.0, h.guest_pct, h.vmm_pct);
		if (first + i == ui->sel)
			attroff(A_BOLD);
	}
	draw_vcpu_line(ui, 2 + shown, cols);
	return 3 + shown;
}

static int draw_table(struct top_ui *ui, int y, int rows_max, int cols)
{
	static struct top_rows rows;
	char head[160];
	double top_rate = 0, top_pct = 0;
	int name_w = cols >= 100 ? 30 : 20, bar_w = cols - name_w - 47;

	top_build_rows(ui->view, &rows);
	snprintf(head, sizeof(head), "%-*s %10s %5s %8s %8s %8s  by %s%s%s", name_w,
		 ui->view->raw ? "Raw reason" : "Category", "Total", "%Tot", "Rate/s", "Avg(us)",
		 "Max(us)", top_sort_name(ui->view->sort), ui->view->filter[0] ? " /" : "",
		 ui->view->filter);
	title(y++, 0, cols, head);
	for (int i = 0; i < rows.n; i++) {
		if (rows.row[i].rate > top_rate)
			top_rate = rows.row[i].rate;
		if (rows.row[i].pct_total > top_pct)
			top_pct = rows.row[i].pct_total;
	}
	for (int i = 0; i < rows_max; i++, y++) {
		line_clear(y);
		if (i >= rows.n) {
			if (i == 0)
				mvprintw(y, 0, ui->view->filter[0] ? "(no reason matches '%s')"
								   : "(no exits yet)", ui->view->filter);
			continue;
		}
		const struct top_row *r = &rows.row[i];
		mvprintw(y, 0, "%-*.*s %10llu %5.1f %8.0f %8.2f %8.1f ", name_w, name_w, r->name,
			 (unsigned long long)r->total, r->pct_total, r->rate, r->avg_ns / 1e3,
			 r->max_ns / 1e3);
		/* Bars show rate; with no rate (paused, idle) the share of all exits. */
		double frac = top_rate > 0 ? r->rate / top_rate : top_pct > 0 ? r->pct_total / top_pct : 0;
		int n = bar_w > 0 ? (int)(frac * bar_w + 0.5) : 0;
		for (int b = 0; b < n; b++)
			addch('#');
	}
	if (rows.n > rows_max)
		mvprintw(y - 1, cols - 12, "(+%d more)", rows.n - rows_max);
	return y;
}

static int draw_addrs(struct top_ui *ui, int y, int rows_max, int cols)
{
	struct top_addr a[STATS_TOP_RIPS];
	const struct stats_vcpu *s = &ui->view->cur.vcpu[ui->view->vcpu];
	char head[128], sym[128];
	int n = top_build_addrs(ui->view, a, rows_max);

	snprintf(head, sizeof(head), "Top exit addresses  (%llu sampled%s)",
		 (unsigned long long)s->rip_samples, cur_vm(ui)->syms ? "" : ", no guest symbols");
	title(y++, 0, cols, head);
	for (int i = 0; i < rows_max; i++, y++) {
		line_clear(y);
		if (i >= n) {
			if (i == 0)
				mvprintw(y, 0, "(the engine reports no exit addresses)");
			continue;
		}
		symtab_name(cur_vm(ui)->syms, a[i].rip, sym, sizeof(sym));
		mvprintw(y, 0, "0x%08llx  %-*.*s %10llu %6.1f%%  %.*s", (unsigned long long)a[i].rip,
			 cols - 50 > 20 ? cols - 50 : 20, cols - 50 > 20 ? cols - 50 : 20,
			 sym[0] ? sym : "?", (unsigned long long)a[i].count, a[i].pct, 24,
			 ui->view->raw ? a[i].reason : a[i].category);
	}
	return y;
}

static void draw_panels(struct top_ui *ui, int y, int rows_max, int cols)
{
	const struct stats_vcpu *s = &ui->view->cur.vcpu[ui->view->vcpu];
	int half = cols / 2, right = cols - half;
	char head[64];

	snprintf(head, sizeof(head), "Mode switches (%llu)", (unsigned long long)s->nr_switches);
	title(y, 0, half - 1, head);
	/* the devices' own counters (virtio refusals) follow the engine's */
	const struct stats_file *vm = &ui->view->cur;
	snprintf(head, sizeof(head), "Engine counters (%u), devices (%u)", s->nr_counters,
		 vm->nr_device_counters);
	title(y, half, right, head);
	y++;
	uint64_t shown = s->nr_switches < (uint64_t)rows_max ? s->nr_switches : (uint64_t)rows_max;
	for (int i = 0; i < rows_max; i++, y++) {
		line_clear(y);
		if ((uint64_t)i < shown && (uint64_t)i < STATS_SWITCH_RING) {
			/* newest first */
			const struct stats_mode_switch *m =
				&s->switches[(s->nr_switches - 1 - i) % STATS_SWITCH_RING];
			mvprintw(y, 0, "%8.2fs %s->%s %.*s", (double)(m->t_ns - ui->view->cur.start_ns) / 1e9,
				 guest_mode_name(m->from), guest_mode_name(m->to), half - 28 > 0 ? half - 28 : 0,
				 m->why);
		} else if (i == 0 && !s->nr_switches) {
			mvprintw(y, 0, "(none: %s since start)", guest_mode_name(s->mode));
		}
		uint32_t d = (uint32_t)i - s->nr_counters;
		if ((uint32_t)i < s->nr_counters) {
			mvprintw(y, half, "%-*.*s %12llu", right - 14, right - 14, s->counters[i].name,
				 (unsigned long long)s->counters[i].value);
		} else if ((uint32_t)i >= s->nr_counters && d < vm->nr_device_counters) {
			char name[sizeof(vm->device_counters[0].device) + sizeof(vm->device_counters[0].name)];

			snprintf(name, sizeof(name), "%s.%s", vm->device_counters[d].device,
				 vm->device_counters[d].name);
			mvprintw(y, half, "%-*.*s %12llu", right - 14, right - 14, name,
				 (unsigned long long)vm->device_counters[d].value);
		} else if (i == 0 && !s->nr_counters && !vm->nr_device_counters)
			mvprintw(y, half, "(the engine publishes none)");
	}
}

static void draw_help(int y0, int lines, int cols)
{
	static const char *const text[] = {
		"Keys",
		"  q        quit",
		"  Tab n    next VM (N, Shift-Tab: previous), when top watches all",
		"  s        next sort column: rate, total, avg, max, name",
		"  p space  pause / resume sampling",
		"  r        reset totals (the VM's own counters are kept)",
		"  c        categories <-> the engine's raw exit reasons",
		"  v        next vCPU",
		"  / f      filter rows by text (empty: all)",
		"  d + -    set, double, halve the interval",
		"  h ?      this help",
	};
	int n = sizeof(text) / sizeof(text[0]);

	for (int i = 0; i < n && y0 + i < lines - 1; i++) {
		line_clear(y0 + i);
		mvprintw(y0 + i, 2, "%.*s", cols - 4, text[i]);
	}
}

static void draw_bottom(struct top_ui *ui, int lines, int cols)
{
	line_clear(lines - 1);
	if (ui->prompt == PROMPT_FILTER)
		mvprintw(lines - 1, 0, "filter: %s", ui->input);
	else if (ui->prompt == PROMPT_INTERVAL)
		mvprintw(lines - 1, 0, "interval in seconds (now %.2f): %s", ui->interval, ui->input);
	else if (ui->message[0])
		mvprintw(lines - 1, 0, "%.*s", cols - 1, ui->message);
	else
		mvprintw(lines - 1, 0, "%.*s", cols - 1, top_help_line());
}

static void draw(struct top_ui *ui)
{
	int lines, cols;

	getmaxyx(stdscr, lines, cols);
	erase();
	if (cols < MIN_COLS || lines < MIN_LINES) {
		mvprintw(0, 0, "terminal too small (%dx%d):", cols, lines);
		mvprintw(1, 0, "hyvm top needs %dx%d", MIN_COLS, MIN_LINES);
		refresh();
		return;
	}
	int y = ui->vms->follow ? draw_header_all(ui, lines, cols) : draw_header_one(ui, cols);
	if (ui->help) {
		draw_help(y + 1, lines, cols);
		draw_bottom(ui, lines, cols);
		refresh();
		return;
	}
	/* Header, last line help; the rest: table, addresses, panels. */
	int free_lines = lines - y - 1 - 3;	/* three titles */
	int table = free_lines * 2 / 5, addrs = (free_lines - table) / 2;
	int panels = free_lines - table - addrs;
	y = draw_table(ui, y, table, cols);
	y = draw_addrs(ui, y, addrs, cols);
	draw_panels(ui, y, panels, cols);
	draw_bottom(ui, lines, cols);
	refresh();
}

void top_ui_select(struct top_ui *ui, int i)
{
	struct top_view *old = ui->view, *v = ui->vms->vm[i].view;

	if (old && old != v) {
		v->sort = old->sort;
		v->raw = old->raw;
		memcpy(v->filter, old->filter, sizeof(v->filter));
	}
	if ((uint32_t)v->vcpu >= (v->cur.nr_vcpus ? v->cur.nr_vcpus : 1))
		v->vcpu = 0;
	ui->view = v;
	ui->sel = i;
	if (old && old != v)
		snprintf(ui->message, sizeof(ui->message), "VM %d", ui->vms->vm[i].pid);
}

/* A scan may have made room by dropping an ended VM: find ours again. */
static void reselect(struct top_ui *ui)
{
	for (int i = 0; i < ui->vms->n; i++)
		if (ui->vms->vm[i].view == ui->view) {
			ui->sel = i;
			return;
		}
	ui->view = NULL;
	top_ui_select(ui, 0);
}

static int refuse(struct top_ui *ui, const char *why)
{
	fprintf(stderr, "hyvm top: %s\n", why);
	free(ui);
	return 1;
}

int top_screen_run(const struct top_args *a, struct top_vms *vms)
{
	struct top_ui *ui = calloc(1, sizeof(*ui));
	int lines, cols;

	if (!ui)
		return refuse(ui, "out of memory");
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO))
		return refuse(ui, "not a terminal (use --batch for scripts)");
	setlocale(LC_ALL, "");
	if (!initscr()) {
		fprintf(stderr, "hyvm top: cannot start the terminal (TERM=%s)\n",
			getenv("TERM") ? getenv("TERM") : "");
		free(ui);
		return 1;
	}
	getmaxyx(stdscr, lines, cols);
	if (cols < MIN_COLS || lines < MIN_LINES) {
		endwin();
		char msg[128];
		snprintf(msg, sizeof(msg), "terminal too small (%dx%d): it needs at least %dx%d "
			 "(--batch needs none)", cols, lines, MIN_COLS, MIN_LINES);
		return refuse(ui, msg);
	}
	cbreak();
	noecho();
	keypad(stdscr, TRUE);
	curs_set(0);
	set_escdelay(25);
	timeout(TICK_MS);

	ui->vms = vms;
	ui->interval = a->interval;
	top_ui_select(ui, 0);
	uint64_t next = stats_now_ns() + (uint64_t)(ui->interval * 1e9);
	/* A first short interval so rates show at once. */
	if (ui->interval > 0.25)
		next = stats_now_ns() + 250000000ull;
	draw(ui);
	while (!ui->quit) {
		int key = getch();
		bool redraw = key != ERR && top_handle_key(ui, key);
		uint64_t now = stats_now_ns();
		if (now >= next) {
			/* Ended VMs keep their last sample; new ones join. */
			if (!ui->paused && (top_vms_running(vms) || vms->follow)) {
				top_vms_sample(vms, now);
				if (top_vms_scan(vms))
					reselect(ui);
				redraw = true;
			}
			next = now + (uint64_t)(ui->interval * 1e9);
		}
		if (redraw)
			draw(ui);
	}
	endwin();
	free(ui);
	return 0;
}
