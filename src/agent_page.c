// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The agent's live page: one HTML file whose script reads the agent's own /history.ndjson,
 * /snapshot.json and /flamegraph.svg, nothing else (no CDN, no font, no library). The series
 * it draws are also kept as JSON in #series, for the test that reads the page.
 */
#include "agent_page.h"

static const char head[] =
	"<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>leaktrace agent</title>\n"
	"<style>body{font:13px sans-serif;margin:1em;color:#222}h2{font-size:15px;margin:1.2em 0 "
	".3em}svg text{font:11px sans-serif}table{border-collapse:collapse}td,th{padding:2px 8px;"
	"border-bottom:1px solid #ddd;text-align:left}.n{text-align:right}#series{display:none}"
	"</style></head>\n<body><h1>leaktrace agent</h1><p id=\"status\">loading</p>\n"
	"<h2>Outstanding bytes of the top stacks</h2><svg id=\"stacks\" width=\"960\" "
	"height=\"280\"></svg>\n"
	"<h2>Outstanding bytes per process</h2><svg id=\"procs\" width=\"960\" height=\"200\">"
	"</svg>\n"
	"<h2>Suspects</h2><table id=\"suspects\"><thead><tr><th>function<th>module<th>pid"
	"<th class=n>bytes<th class=n>lost bytes<th>trend<th class=n>growth B/s<th>why</tr>"
	"</thead><tbody></tbody></table>\n"
	"<h2>Flamegraph (outstanding bytes)</h2><object id=\"flame\" type=\"image/svg+xml\" "
	"width=\"100%\"></object>\n<pre id=\"series\"></pre>\n<script>\n";

/* The script: one refresh every interval, each from the agent's own endpoints only. */
static const char script[] =
	"'use strict';\n"
	"const COLORS=['#d62728','#1f77b4','#2ca02c','#ff7f0e','#9467bd','#8c564b','#e377c2',"
	"'#7f7f7f','#bcbd22','#17becf'];\n"
	"function el(tag,attrs,text){const e=document.createElementNS("
	"'http://www.w3.org/2000/svg',tag);for(const k in attrs)e.setAttribute(k,attrs[k]);"
	"if(text!==undefined)e.textContent=text;return e;}\n"
	"function human(b){const u=['B','KiB','MiB','GiB','TiB'];let i=0;"
	"while(Math.abs(b)>=1024&&i<u.length-1){b/=1024;i++;}return (i?b.toFixed(1):b)+' '+u[i];}\n"
	/* One series per stack (its function, in its process) or per process. */
	"function series(lines,kind){const m={};for(const h of lines){"
	"for(const e of (kind==='stacks'?h.stacks:h.processes)||[]){"
	"const key=kind==='stacks'?e.function+' ('+e.comm+' '+e.pid+')':e.comm+' '+e.pid;"
	"(m[key]=m[key]||[]).push([h.t,e.bytes]);}}return m;}\n"
	"function draw(svg,m){while(svg.firstChild)svg.removeChild(svg.firstChild);"
	"const W=+svg.getAttribute('width'),H=+svg.getAttribute('height'),L=70,R=300,T=10,B=20;"
	"let t0=Infinity,t1=-Infinity,max=1;for(const k in m)for(const [t,b] of m[k]){"
	"t0=Math.min(t0,t);t1=Math.max(t1,t);max=Math.max(max,b);}"
	"if(t1<=t0)t1=t0+1;const x=t=>L+(t-t0)/(t1-t0)*(W-L-R),y=b=>H-B-b/max*(H-T-B);"
	"svg.appendChild(el('line',{x1:L,y1:H-B,x2:W-R,y2:H-B,stroke:'#888'}));"
	"svg.appendChild(el('text',{x:2,y:T+10},human(max)));"
	"svg.appendChild(el('text',{x:2,y:H-B},'0'));"
	"Object.keys(m).forEach((k,i)=>{const c=COLORS[i%COLORS.length],p=m[k];"
	"svg.appendChild(el('polyline',{fill:'none',stroke:c,'stroke-width':2,"
	"points:p.map(([t,b])=>x(t)+','+y(b)).join(' ')}));"
	"const [lt,lb]=p[p.length-1];svg.appendChild(el('text',{x:W-R+6,y:T+12+i*14,fill:c,"
	"class:'label'},k+': '+human(lb)));});}\n"
	"function table(suspects){const tb=document.querySelector('#suspects tbody');"
	"tb.textContent='';for(const s of suspects){const tr=document.createElement('tr');"
	"for(const [v,n] of [[s.symbol],[s.module],[s.pid],[s.bytes,1],[s.lost_bytes,1],[s.trend],"
	"[s.growth_bytes_per_s,1],[s.reason]]){const td=document.createElement('td');"
	"if(n)td.className='n';td.textContent=v===undefined||v===null?'':v;tr.appendChild(td);}"
	"tb.appendChild(tr);}}\n"
	"async function refresh(){const st=document.getElementById('status');try{"
	"const text=await (await fetch('/history.ndjson',{cache:'no-store'})).text();"
	"const lines=text.split('\\n').filter(l=>l).map(l=>JSON.parse(l));"
	"const s=series(lines,'stacks'),p=series(lines,'processes');"
	"draw(document.getElementById('stacks'),s);draw(document.getElementById('procs'),p);"
	"document.getElementById('series').textContent=JSON.stringify({stacks:s,processes:p});"
	"const r=await fetch('/snapshot.json',{cache:'no-store'});"
	"if(r.ok){table((await r.json()).suspects||[]);"
	"document.getElementById('flame').data='/flamegraph.svg?t='+Date.now();}"
	"st.textContent=lines.length+' snapshots, the last at '+(lines.length?"
	"new Date(lines[lines.length-1].t*1000).toISOString():'-');}"
	"catch(e){st.textContent='no data yet: '+e;}}\n"
	"refresh();setInterval(refresh,INTERVAL_MS);\n"
	"</script></body></html>\n";

void agent_page__write(FILE *f, double interval_s)
{
	fputs(head, f);
	fprintf(f, "const INTERVAL_MS=%.0f;\n", interval_s * 1000);
	fputs(script, f);
}
