# The bench scripts' one chart writer: a grouped horizontal bar chart in
# SVG from lines "group,bar,value" (value empty: no figure, drawn as "-").
# Groups keep the order of their first line, bars their order within it;
# a bar name keeps one colour in every group; each group is scaled to its
# largest value, so groups in different units can share a chart.
#   awk -F, -v title=T [-v footer=F] [-v unit=U] -f bench/lib/bars.awk TRIPLES
# Used by bench/linux/boot-time.sh, bench/linux/work.sh,
# bench/storms/storms.sh and bench/io/io.sh (hyvm bench draws its own, in C,
# on a log scale: userspace/nanobench/bench_report.c).
function esc(s) { gsub(/&/, "\\&amp;", s); gsub(/</, "\\&lt;", s); gsub(/>/, "\\&gt;", s); return s }
NF >= 2 {
	g = $1; b = $2; v = $3
	if (!(g in gi)) { gi[g] = ++ng; gname[ng] = g }
	k = gi[g]; nb[k]++; bname[k, nb[k]] = b; val[k, nb[k]] = v
	if (!(b in color)) color[b] = ++ncolors
	if (v != "" && v + 0 > gmax[k]) gmax[k] = v + 0
	rows++
}
END {
	split("#4a7ab5 #d08a3c #5a9a5a #a04a8a #8a8a3a #3a8a8a", pal, " ")
	w = 720; bh = 18; left = 200
	h = 40 + ng * 24 + rows * (bh + 4) + ng * 6 + 30
	printf "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" font-family=\"sans-serif\" font-size=\"12\">\n", w, h
	printf "<text x=\"10\" y=\"20\" font-size=\"14\">%s</text>\n", esc(title)
	y = 40
	for (k = 1; k <= ng; k++) {
		printf "<text x=\"10\" y=\"%d\" font-weight=\"bold\">%s</text>\n", y + 12, esc(gname[k]); y += 18
		for (r = 1; r <= nb[k]; r++) {
			v = val[k, r]
			bw = (v != "" && gmax[k] > 0) ? (w - left - 110) * v / gmax[k] : 0
			c = pal[(color[bname[k, r]] - 1) % 6 + 1]
			printf "<text x=\"20\" y=\"%d\">%s</text>\n", y + bh - 4, esc(bname[k, r])
			printf "<rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"%s\"/>\n", left, y, bw, bh, c
			printf "<text x=\"%.1f\" y=\"%d\">%s%s</text>\n", left + bw + 6, y + bh - 4, v == "" ? "-" : v, v == "" ? "" : unit
			y += bh + 4
		}
		y += 6
	}
	if (footer == "") footer = "each group scaled to its largest value"
	printf "<text x=\"10\" y=\"%d\" fill=\"#666\">%s</text>\n</svg>\n", h - 10, esc(footer)
}
