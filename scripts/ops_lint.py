#!/usr/bin/env python3
"""Static checks of Binder's operations files, run by scripts/check-ops.

Standard library + PyYAML only. One subcommand per check; each prints what is wrong and
exits 1, or exits 0 quietly. Run from the repository root:

    python3 scripts/ops_lint.py compose|metrics|dashboards|alert-coverage|alertmanager|dockerfile
"""

import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

MONITORING = Path("monitoring")
ALERTS = MONITORING / "alerts.yml"
ALERT_TESTS = MONITORING / "alerts_test.yml"
DASHBOARDS = MONITORING / "grafana" / "dashboards"
PROVISIONING = MONITORING / "grafana" / "provisioning"

# The metric names binder exports (its telemetry module is the source of truth; keep the
# two in step). Histograms also export _bucket, _sum and _count series.
COUNTERS_AND_GAUGES = {
    "api_requests_total",
    "process_cpu_seconds_total",
    "process_resident_memory_bytes",
    "process_virtual_memory_bytes",
    "process_open_fds",
    "process_max_fds",
    "process_start_time_seconds",
    "binder_up",
    "binder_db_up",
    "binder_redis_up",
    "ib_connection_status",
    "binder_broker_state",
    "ib_orders_total",
    "ib_order_errors_total",
    "ib_market_data_subscriptions",
    "orders_total",
    "active_positions_total",
    "pnl_unrealized_total",
    "risk_kill_switch_active",
    "auth_failures_total",
}
HISTOGRAMS = {"api_request_duration_seconds", "order_latency_seconds"}
# Written by Prometheus itself for every scrape target, not by binder.
SYNTHETIC = {"up"}
KNOWN_METRICS = (
    COUNTERS_AND_GAUGES
    | SYNTHETIC
    | {h + suffix for h in HISTOGRAMS for suffix in ("_bucket", "_sum", "_count")}
)

# Settings binder reads (every one is also a flag), plus Leptos' own.
BINDER_ENV = {
    "BINDER_ADDR", "DATABASE_URL", "REDIS_URL", "BINDER_BROKER", "IB_GATEWAY_HOST",
    "IB_GATEWAY_PORT", "IB_CLIENT_ID", "TRADING_MODE", "BINDER_JWT_SECRET", "ENVIRONMENT",
    "BINDER_LOG", "BINDER_LOG_FORMAT", "BINDER_ADMIN_PASSWORD",
}
# Variables documented by the ib-gateway image (gnzsnz/ib-gateway-docker README).
IB_GATEWAY_ENV = {
    "TWS_USERID", "TWS_PASSWORD", "TWS_PASSWORD_FILE", "TRADING_MODE", "TWS_USERID_PAPER",
    "TWS_PASSWORD_PAPER", "TWS_PASSWORD_PAPER_FILE", "READ_ONLY_API", "VNC_SERVER_PASSWORD",
    "VNC_SERVER_PASSWORD_FILE", "TWOFA_TIMEOUT_ACTION", "TWOFA_DEVICE", "TWOFA_EXIT_INTERVAL",
    "BYPASS_WARNING", "AUTO_RESTART_TIME", "AUTO_LOGOFF_TIME", "TWS_COLD_RESTART",
    "SAVE_TWS_SETTINGS", "RELOGIN_AFTER_TWOFA_TIMEOUT", "EXISTING_SESSION_DETECTED_ACTION",
    "ALLOW_BLIND_TRADING", "TIME_ZONE", "TZ", "TWS_SETTINGS_PATH", "TWS_ACCEPT_INCOMING",
    "TWS_MASTER_CLIENT_ID", "CUSTOM_CONFIG", "JAVA_HEAP_SIZE", "START_SCRIPTS", "X_SCRIPTS",
    "IBC_SCRIPTS",
}
REQUIRED_SERVICES = {
    "binder", "ib-gateway", "ib-sim", "postgres", "redis", "prometheus", "alertmanager", "grafana",
}
SECRET_KEY = re.compile(r"PASSWORD|SECRET|TOKEN|USERID|_KEY$")
ONLY_REFERENCE = re.compile(r"^\$\{[A-Z0-9_]+(:?[-?][^}]*)?\}$")
SEVERITIES = {"critical", "warning", "info"}


class Problems:
    """Collects findings; `done()` prints them and gives the exit status."""

    def __init__(self):
        self.items = []

    def __call__(self, message):
        self.items.append(message)

    def check(self, condition, message):
        if not condition:
            self.items.append(message)

    def done(self):
        for item in self.items:
            print(item)
        return 1 if self.items else 0


def load_yaml(path):
    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f)


# ---------------------------------------------------------------------------------------
# PromQL: the metric names an expression reads. Not a parser; it removes what cannot be a
# metric name (strings, label matchers, ranges, grouping clauses, function calls, keywords,
# numbers) and keeps the identifiers that are left.
PROMQL_KEYWORDS = {
    "by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or",
    "unless", "offset", "atan2", "inf", "nan",
}


def metric_names(expr):
    s = re.sub(r'"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'|`[^`]*`', '""', expr)
    s = re.sub(r"\{[^}]*\}", " ", s)
    s = re.sub(r"\[[^\]]*\]", " ", s)
    s = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", s)
    names = set()
    for m in re.finditer(r"(?<![\w:.$])([A-Za-z_:][A-Za-z0-9_:]*)(\s*\()?", s):
        name, call = m.group(1), m.group(2)
        if call or name.lower() in PROMQL_KEYWORDS:
            continue
        names.add(name)
    return names


def alert_rules():
    for group in load_yaml(ALERTS)["groups"]:
        for rule in group["rules"]:
            yield group["name"], rule


def dashboard_files():
    return sorted(DASHBOARDS.glob("*.json"))


def dashboard_panels(dashboard):
    for panel in dashboard.get("panels", []):
        yield panel
        yield from panel.get("panels", [])  # collapsed rows keep their panels inside


def cmd_metrics():
    p = Problems()
    uses = []  # (where, expression)
    for group, rule in alert_rules():
        name = rule.get("alert") or rule.get("record")
        uses.append((f"{ALERTS}: {group}/{name}", rule["expr"]))
    for test in load_yaml(ALERT_TESTS)["tests"]:
        for series in test.get("input_series", []):
            uses.append((f"{ALERT_TESTS}: input series", series["series"]))
    for path in dashboard_files():
        dashboard = json.loads(path.read_text(encoding="utf-8"))
        for panel in dashboard_panels(dashboard):
            for target in panel.get("targets", []):
                if "expr" in target:
                    uses.append((f"{path}: panel {panel.get('title')!r}", target["expr"]))
        for var in dashboard.get("templating", {}).get("list", []):
            query = var.get("query")
            text = query.get("query", "") if isinstance(query, dict) else (query or "")
            inner = re.match(r"\s*label_values\((.*),\s*\w+\)\s*$", text)
            if inner:
                uses.append((f"{path}: variable {var.get('name')}", inner.group(1)))
    recorded = {rule["record"] for _, rule in alert_rules() if "record" in rule}
    seen = set()
    for where, expr in uses:
        names = metric_names(expr)
        p.check(names, f"{where}: no metric found in {expr!r}")
        for name in sorted(names - KNOWN_METRICS - recorded):
            p(f"{where}: unknown metric {name!r} (not one binder exports; see KNOWN_METRICS)")
        seen |= names
    if not p.items:
        print(f"{len(uses)} expressions, {len(seen)} distinct metrics, all known")
    return p.done()


# ---------------------------------------------------------------------------------------
def cmd_alert_coverage():
    p = Problems()
    alerts = {}
    for group, rule in alert_rules():
        if "alert" not in rule:
            continue
        name = rule["alert"]
        p.check(name not in alerts, f"{ALERTS}: alert {name} is defined twice")
        alerts[name] = rule
        severity = rule.get("labels", {}).get("severity")
        p.check(severity in SEVERITIES, f"{ALERTS}: {name}: severity {severity!r} not in {sorted(SEVERITIES)}")
        for key in ("summary", "description"):
            p.check(rule.get("annotations", {}).get(key), f"{ALERTS}: {name}: no {key} annotation")
    firing, silent = set(), set()
    for test in load_yaml(ALERT_TESTS)["tests"]:
        for case in test.get("alert_rule_test", []):
            name = case["alertname"]
            p.check(name in alerts, f"{ALERT_TESTS}: tests unknown alert {name}")
            (firing if case.get("exp_alerts") else silent).add(name)
    for name in sorted(alerts):
        p.check(name in firing, f"{ALERT_TESTS}: no case where {name} fires")
        p.check(name in silent, f"{ALERT_TESTS}: no case where {name} stays silent")
    if not p.items:
        print(f"{len(alerts)} alerts, each tested firing and silent")
    return p.done()


# ---------------------------------------------------------------------------------------
def provisioned_datasource_uids():
    uids = []
    for path in sorted((PROVISIONING / "datasources").glob("*.y*ml")):
        doc = load_yaml(path)
        for ds in doc.get("datasources", []):
            uids.append(ds.get("uid"))
    return uids


def cmd_dashboards():
    p = Problems()
    ds_uids = provisioned_datasource_uids()
    p.check(ds_uids and None not in ds_uids, f"{PROVISIONING}/datasources: every datasource needs a uid")
    p.check(len(ds_uids) == len(set(ds_uids)), f"{PROVISIONING}/datasources: duplicate uids {ds_uids}")
    providers = []
    for path in sorted((PROVISIONING / "dashboards").glob("*.y*ml")):
        doc = load_yaml(path)
        p.check(doc.get("apiVersion") == 1, f"{path}: apiVersion must be 1")
        providers += doc.get("providers", [])
    p.check(providers, f"{PROVISIONING}/dashboards: no dashboard provider")
    files = dashboard_files()
    p.check(files, f"{DASHBOARDS}: no dashboards")
    uids = {}
    builtin_vars = {"__rate_interval", "__interval", "__range", "__all", "__dashboard", "__from", "__to"}
    for path in files:
        try:
            d = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as e:
            p(f"{path}: invalid JSON: {e}")
            continue
        for key in ("uid", "title", "panels", "schemaVersion"):
            p.check(key in d, f"{path}: no {key!r}")
        if d.get("uid") in uids:
            p(f"{path}: uid {d.get('uid')} also used by {uids[d.get('uid')]}")
        uids[d.get("uid")] = path
        variables = {v["name"] for v in d.get("templating", {}).get("list", [])}
        for v in d.get("templating", {}).get("list", []):
            ds = v.get("datasource")
            if isinstance(ds, dict):
                p.check(ds.get("uid") in ds_uids, f"{path}: variable {v['name']}: datasource uid {ds.get('uid')!r} is not provisioned")
        ids, cells = set(), {}
        for panel in dashboard_panels(d):
            title = panel.get("title")
            where = f"{path}: panel {title!r}"
            p.check(title, f"{path}: panel {panel.get('id')} has no title")
            p.check(panel.get("id") not in ids, f"{where}: duplicate id {panel.get('id')}")
            ids.add(panel.get("id"))
            g = panel.get("gridPos", {})
            if not all(isinstance(g.get(k), int) for k in "xywh"):
                p(f"{where}: gridPos needs integer x, y, w, h")
                continue
            p.check(g["w"] > 0 and g["h"] > 0 and g["x"] >= 0 and g["x"] + g["w"] <= 24,
                    f"{where}: gridPos {g} is outside the 24-column grid")
            for x in range(g["x"], g["x"] + g["w"]):
                for y in range(g["y"], g["y"] + g["h"]):
                    if (x, y) in cells:
                        p(f"{where}: overlaps panel {cells[(x, y)]!r}")
                        break
                    cells[(x, y)] = title
                else:
                    continue
                break
            if panel.get("type") == "row":
                continue
            ds = panel.get("datasource") or {}
            p.check(ds.get("uid") in ds_uids, f"{where}: datasource uid {ds.get('uid')!r} is not provisioned ({ds_uids})")
            targets = panel.get("targets", [])
            p.check(targets and all(t.get("expr") for t in targets), f"{where}: needs targets with expr")
            p.check(len({t.get("refId") for t in targets}) == len(targets), f"{where}: duplicate refId")
            for t in targets:
                tds = t.get("datasource") or ds
                p.check(tds.get("uid") in ds_uids, f"{where}: target datasource {tds.get('uid')!r} is not provisioned")
                for var in re.findall(r"\$\{?(\w+)", t.get("expr", "")):
                    p.check(var in variables | builtin_vars, f"{where}: uses undefined variable ${var}")
    p.items += promql_syntax_errors(files)
    if not p.items:
        print(f"{len(files)} dashboard(s), datasources {ds_uids}, {len(providers)} provider(s)")
    return p.done()


def promql_syntax_errors(files):
    """Has promtool parse every dashboard query, as recording rules with Grafana's variables
    replaced by plain values."""
    promtool = shutil.which("promtool")
    if not promtool:
        return ["promtool not found: cannot check the dashboards' PromQL"]
    rules = []
    for path in files:
        for panel in dashboard_panels(json.loads(path.read_text(encoding="utf-8"))):
            for target in panel.get("targets", []):
                expr = target.get("expr", "")
                expr = re.sub(r"\$\{?__(rate_interval|interval|range)\}?", "5m", expr)
                expr = re.sub(r"\$\{?\w+\}?", ".*", expr)
                rules.append({"record": f"dashboard_query_{len(rules) + 1}", "expr": expr})
    with tempfile.NamedTemporaryFile("w", suffix=".yml", delete=False) as f:
        yaml.safe_dump({"groups": [{"name": "dashboard-queries", "rules": rules}]}, f)
    try:
        result = subprocess.run([promtool, "check", "rules", f.name], capture_output=True, text=True)
    finally:
        Path(f.name).unlink()
    if result.returncode != 0:
        return ["dashboard PromQL does not parse:", result.stdout + result.stderr]
    return []


# ---------------------------------------------------------------------------------------
def env_map(service):
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, None) for item in env)
    return {k: ("" if v is None else str(v)) for k, v in env.items()}


def port_host_ip(port):
    if isinstance(port, dict):
        return port.get("host_ip")
    parts = str(port).split(":")
    return parts[0] if len(parts) == 3 else None


def cmd_compose():
    p = Problems()
    compose = load_yaml("compose.yaml")
    services = compose.get("services", {})
    p.check(REQUIRED_SERVICES <= services.keys(), f"compose.yaml: missing services {sorted(REQUIRED_SERVICES - services.keys())}")
    named_volumes = set((compose.get("volumes") or {}).keys())

    for name, svc in services.items():
        where = f"compose.yaml: {name}"
        image = svc.get("image", "")
        if "build" in svc:
            p.check(Path(svc["build"].get("context", ".")).joinpath(svc["build"].get("dockerfile", "Dockerfile")).is_file(),
                    f"{where}: build dockerfile not found")
        else:
            repo, _, tag = image.rpartition(":") if ":" in image.split("/")[-1] else (image, "", "")
            p.check(tag and tag not in {"latest", "stable", "edge", "main"} and re.search(r"\d", tag),
                    f"{where}: image {image!r} is not pinned to a version tag")
        for port in svc.get("ports", []):
            p.check(port_host_ip(port) == "127.0.0.1", f"{where}: port {port!r} is not bound to 127.0.0.1")
        for key, value in env_map(svc).items():
            if SECRET_KEY.search(key):
                p.check(ONLY_REFERENCE.match(value), f"{where}: {key} must come from .env as ${{VAR}}, not a literal")
            if "://" in value and "@" in value:
                p.check(re.search(r"://[^/:@]*:\$\{[A-Z0-9_]+[^}]*\}@", value) or re.search(r"://[^/:@]*@", value),
                        f"{where}: {key} holds a literal password")
        for volume in svc.get("volumes", []):
            source = volume.get("source") if isinstance(volume, dict) else str(volume).split(":")[0]
            if source.startswith((".", "/")):
                p.check(Path(source).exists(), f"{where}: bind mount source {source} does not exist")
            else:
                p.check(source in named_volumes, f"{where}: volume {source} is not declared")
        p.check("healthcheck" in svc, f"{where}: no healthcheck")
        if "logging" in svc:
            p.check(svc["logging"].get("options", {}).get("max-size"), f"{where}: logs are not rotated")

    binder = services.get("binder", {})
    env = env_map(binder)
    p.check(set(env) <= BINDER_ENV, f"compose.yaml: binder: unknown settings {sorted(set(env) - BINDER_ENV)}")
    for key, want in {"BINDER_BROKER": "gateway", "IB_GATEWAY_HOST": "ib-gateway", "BINDER_ADDR": "0.0.0.0:3000"}.items():
        p.check(env.get(key) == want, f"compose.yaml: binder: {key} should be {want!r}, is {env.get(key)!r}")
    for dep in ("postgres", "redis"):
        cond = (binder.get("depends_on") or {}).get(dep, {})
        p.check(isinstance(cond, dict) and cond.get("condition") == "service_healthy",
                f"compose.yaml: binder must depend on {dep} being healthy")
    p.check("/readyz" in " ".join(map(str, binder.get("healthcheck", {}).get("test", []))),
            "compose.yaml: binder healthcheck must probe /readyz")
    p.check("pg_isready" in " ".join(map(str, services.get("postgres", {}).get("healthcheck", {}).get("test", []))),
            "compose.yaml: postgres healthcheck must use pg_isready")
    p.check(any(":/var/lib/postgresql" in str(v) for v in services.get("postgres", {}).get("volumes", [])),
            "compose.yaml: postgres has no data volume")

    gw = services.get("ib-gateway", {})
    gw_env = env_map(gw)
    p.check(set(gw_env) <= IB_GATEWAY_ENV, f"compose.yaml: ib-gateway: variables the image does not know: {sorted(set(gw_env) - IB_GATEWAY_ENV)}")
    for key in ("TWS_USERID", "TWS_PASSWORD", "TRADING_MODE", "READ_ONLY_API", "AUTO_RESTART_TIME"):
        p.check(key in gw_env, f"compose.yaml: ib-gateway: {key} is not set")
    p.check("gateway" in gw.get("profiles", []), "compose.yaml: ib-gateway belongs in the 'gateway' profile")
    relay = {"paper": "4004", "live": "4003"}
    port_default = re.match(r"^\$\{IB_GATEWAY_PORT:-(\d+)\}$", env.get("IB_GATEWAY_PORT", ""))
    mode_default = re.match(r"^\$\{TRADING_MODE:-(\w+)\}$", env.get("TRADING_MODE", ""))
    p.check(port_default and mode_default and relay.get(mode_default.group(1)) == port_default.group(1),
            "compose.yaml: binder's default IB_GATEWAY_PORT must be the socat relay of its default TRADING_MODE (paper 4004, live 4003)")
    p.check(port_default and port_default.group(1) in map(str, gw.get("expose", [])),
            "compose.yaml: ib-gateway does not expose binder's IB_GATEWAY_PORT")

    sim = services.get("ib-sim", {})
    command = sim.get("command") or []
    p.check("sim" in sim.get("profiles", []), "compose.yaml: ib-sim belongs in the 'sim' profile")
    p.check(command[:1] == ["sim"], "compose.yaml: ib-sim must run `binder sim`")
    p.check(port_default and command[command.index("--port") + 1] == port_default.group(1) if "--port" in command else False,
            "compose.yaml: ib-sim must listen on binder's IB_GATEWAY_PORT")
    aliases = ((sim.get("networks") or {}).get("default") or {}).get("aliases", [])
    p.check("ib-gateway" in aliases, "compose.yaml: ib-sim must answer to the name ib-gateway")

    prom = services.get("prometheus", {})
    mounts = {str(v).split(":")[0]: str(v).split(":")[1] for v in prom.get("volumes", []) if str(v).startswith(".")}
    p.check(mounts.get("./monitoring/prometheus.yml") == "/etc/prometheus/prometheus.yml",
            "compose.yaml: prometheus must mount monitoring/prometheus.yml at /etc/prometheus/prometheus.yml")
    for rule_file in load_yaml(MONITORING / "prometheus.yml").get("rule_files", []):
        p.check(mounts.get(f"./monitoring/{rule_file}") == f"/etc/prometheus/{rule_file}",
                f"compose.yaml: prometheus does not mount rule file {rule_file} next to its config")

    grafana = services.get("grafana", {})
    genv = env_map(grafana)
    p.check(genv.get("GF_AUTH_ANONYMOUS_ENABLED") == "false", "compose.yaml: grafana must disable anonymous access")
    gmounts = {str(v).split(":")[1]: str(v).split(":")[0] for v in grafana.get("volumes", []) if str(v).startswith(".")}
    p.check(gmounts.get("/etc/grafana/provisioning") == "./monitoring/grafana/provisioning",
            "compose.yaml: grafana must mount monitoring/grafana/provisioning")
    for path in sorted((PROVISIONING / "dashboards").glob("*.y*ml")):
        for provider in load_yaml(path).get("providers", []):
            target = provider.get("options", {}).get("path")
            p.check(gmounts.get(target) == "./monitoring/grafana/dashboards",
                    f"{path}: provider path {target} is not where compose.yaml mounts monitoring/grafana/dashboards")
    for path in sorted((PROVISIONING / "datasources").glob("*.y*ml")):
        for ds in load_yaml(path).get("datasources", []):
            host = re.match(r"https?://([^:/]+)", ds.get("url", ""))
            p.check(host and host.group(1) in services, f"{path}: datasource {ds.get('name')} points at unknown host {ds.get('url')}")

    if not p.items:
        print(f"{len(services)} services, {sum(len(s.get('ports', [])) for s in services.values())} ports (all on 127.0.0.1)")
    return p.done()


# ---------------------------------------------------------------------------------------
def cmd_alertmanager():
    p = Problems()
    am = load_yaml(MONITORING / "alertmanager.yml")
    receivers = {r["name"] for r in am.get("receivers", [])}
    p.check(receivers, "alertmanager.yml: no receivers")

    def walk(route, depth):
        p.check(depth > 0 or route.get("receiver"), "alertmanager.yml: the top route needs a receiver")
        if "receiver" in route:
            p.check(route["receiver"] in receivers, f"alertmanager.yml: unknown receiver {route['receiver']!r}")
        for child in route.get("routes", []):
            walk(child, depth + 1)

    walk(am.get("route") or {}, 0)
    alert_names = {rule["alert"] for _, rule in alert_rules() if "alert" in rule}
    for rule in am.get("inhibit_rules", []):
        for matcher in rule.get("source_matchers", []) + rule.get("target_matchers", []):
            m = re.match(r'\s*alertname\s*(=~|=)\s*"([^"]*)"', matcher)
            if m:
                names = m.group(2).split("|") if m.group(1) == "=~" else [m.group(2)]
                for n in names:
                    p.check(n in alert_names, f"alertmanager.yml: inhibit rule names unknown alert {n!r}")
    return p.done()


# ---------------------------------------------------------------------------------------
def cargo_lock_version(crate):
    text = Path("Cargo.lock").read_text(encoding="utf-8")
    m = re.search(r'\[\[package\]\]\nname = "' + re.escape(crate) + r'"\nversion = "([^"]+)"', text)
    return m.group(1) if m else None


def cmd_dockerfile():
    p = Problems()
    lines = []
    for raw in re.sub(r"\\\n", " ", Path("Dockerfile").read_text(encoding="utf-8")).splitlines():
        if raw.strip() and not raw.lstrip().startswith("#"):
            lines.append(raw.strip())
    stages, final = set(), []
    args = {}
    for line in lines:
        word, _, rest = line.partition(" ")
        word = word.upper()
        if word == "FROM":
            parts = [t for t in rest.split() if not t.startswith("--")]
            image = parts[0]
            if image not in stages:
                name = image.split("@")[0]
                tag = name.rpartition(":")[2] if ":" in name.split("/")[-1] else ""
                p.check("@sha256:" in image or (tag and tag != "latest" and re.search(r"\d", tag)),
                        f"Dockerfile: FROM {image} is not pinned to a version")
            if len(parts) >= 3 and parts[1].upper() == "AS":
                stages.add(parts[2])
            final = []
        elif word == "ARG" and "=" in rest:
            key, _, value = rest.partition("=")
            args[key.strip()] = value.strip().strip('"')
        final.append((word, rest))
    users = [rest for word, rest in final if word == "USER"]
    p.check(users, "Dockerfile: the runtime stage sets no USER")
    if users:
        user = users[-1].split(":")[0]
        p.check(user not in {"root", "0"}, f"Dockerfile: the runtime stage runs as {user}")
    p.check(any(w == "EXPOSE" and "3000" in r.split() for w, r in final), "Dockerfile: runtime stage does not EXPOSE 3000")
    p.check(any(w == "HEALTHCHECK" for w, _ in final), "Dockerfile: runtime stage has no HEALTHCHECK")
    env_text = " ".join(r for w, r in final if w == "ENV")
    for key in ("LEPTOS_SITE_ROOT", "LEPTOS_OUTPUT_NAME", "LEPTOS_SITE_PKG_DIR", "BINDER_ADDR"):
        p.check(key + "=" in env_text, f"Dockerfile: runtime stage does not set {key}")
    lock = cargo_lock_version("wasm-bindgen")
    p.check(lock and args.get("WASM_BINDGEN_VERSION") == lock,
            f"Dockerfile: WASM_BINDGEN_VERSION {args.get('WASM_BINDGEN_VERSION')} != wasm-bindgen {lock} in Cargo.lock")
    p.check(args.get("CARGO_LEPTOS_VERSION") == "0.3.10", "Dockerfile: cargo-leptos must be 0.3.10 (see shared/TOOLCHAIN.md)")
    want = re.search(r'^rust-version\s*=\s*"(\d+)\.(\d+)', Path("Cargo.toml").read_text(encoding="utf-8"), re.M)
    have = re.search(r"FROM rust:(\d+)\.(\d+)", "\n".join(lines))
    p.check(want and have and tuple(map(int, have.groups())) >= tuple(map(int, want.groups())),
            "Dockerfile: the rust image is older than Cargo.toml's rust-version")

    ignored = {l.strip().strip("/").removeprefix("**/") for l in Path(".dockerignore").read_text(encoding="utf-8").splitlines()}
    for entry in ("target", "node_modules", ".env"):
        p.check(entry in ignored, f".dockerignore: does not exclude {entry}")
    p.check(".sqlx" not in ignored, ".dockerignore: .sqlx is needed for an offline build")
    return p.done()


COMMANDS = {
    "metrics": cmd_metrics,
    "alert-coverage": cmd_alert_coverage,
    "dashboards": cmd_dashboards,
    "compose": cmd_compose,
    "alertmanager": cmd_alertmanager,
    "dockerfile": cmd_dockerfile,
}

if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in COMMANDS:
        sys.exit(f"usage: {sys.argv[0]} {{{'|'.join(COMMANDS)}}}")
    sys.exit(COMMANDS[sys.argv[1]]())
