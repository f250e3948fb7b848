"""What the MCMP model (`harness.protocol.mcmp_model`) knows per mod_cluster line, as data.

`LineRules` is one row per (line, mode): field limits, which parsing and registration algorithm the line
uses (named strategies, each implemented once in the model), the reply shapes and the error texts. Where
the 1.3.x and 2.x lines differ on purpose, that is a field of this row, with the reason in a comment; a
test selects the row (`rules_for`) and never branches on the line itself.

`BUGS` names behaviour believed to be a mod_cluster bug. The model predicts the line's intended behaviour
by default and the as-built one when asked (`McmpModel(..., bugs=rules.bugs)`): a conformance test checks
both, and marks the cases that hit a bug as strict expected failures. Standard library only.
"""

from __future__ import annotations

from dataclasses import dataclass

# ----------------------------------------------------------------------------------------- messages
# The texts of mod_manager.c (both lines), sent in the `Mess` header of a 500 reply.
SMESPAR = "SYNTAX: Can't parse MCMP message. It might have contained illegal symbols or unknown elements."
SBALBIG = "SYNTAX: Balancer field too big"
SBAFBIG = "SYNTAX: A field is too big"
SROUBIG = "SYNTAX: JVMRoute field too big"
SROUBAD = "SYNTAX: JVMRoute can't be empty"
SDOMBIG = "SYNTAX: LBGroup field too big"
SHOSBIG = "SYNTAX: Host field too big"
SPORBIG = "SYNTAX: Port field too big"
STYPBIG = "SYNTAX: Type field too big"
SALIBIG = "SYNTAX: Alias field too big"
SCONBIG = "SYNTAX: Context field too big"
SFLUBAD = "SYNTAX: Flushwait field has bad value"
SPNGBAD = "SYNTAX: Ping field has bad value"
STTLBAD = "SYNTAX: TTL field has bad value"
STIMBAD = "SYNTAX: Timeout field has bad value"
SALIBAD = "SYNTAX: Alias without Context"
SCONBAD = "SYNTAX: Context without Alias"
NOCONAL = "SYNTAX: No Context and Alias in APP command"
SBADFLD = 'SYNTAX: Invalid field "{}" in message'
SMISFLD = "SYNTAX: Mandatory field(s) missing in message"
SMULALB = "SYNTAX: Only one Alias in APP command"
SMULCTB = "SYNTAX: Only one Context in APP command"
EMPTY_ALIAS = "TODO: Empty Alias is not allowed"  # 2.x HEAD texts, "TODO" included
EMPTY_CONTEXT = "TODO: Empty Context is not allowed"
BAD_LOAD = "TODO: Bad value for Load"
NO_ROUTE = "TODO: No JVMRoute given!"
BAD_SCHEME = "PING Unsupported scheme: {}"
MNODEUI = 'MEM: Can\'t update or insert node with "{}" JVMRoute'
MNODERM = 'MEM: Old node with "{}" JVMRoute still exists'
MNODERD = 'MEM: Can\'t read node with "{}" JVMRoute'
MNODEEX = 'MEM: Node with "{}" JVMRoute already exists'
MNODEET = "MEM: Another for the same worker already exist"
MHOSTUI = 'MEM: Can\'t update or insert host alias for node with "{}" JVMRoute'

# Known bugs (names used in `LineRules.bugs` and by the tests' expected-failure rows).
BUG_STOP_REPLY_WIDTH = "stop-app-reply-cut-to-8"
BUG_LIST_SKIPS_AFTER_COMMA = "list-parser-skips-char-after-comma"
BUG_DECODE_STOPS_AT_EMPTY = "decode-stops-at-empty-value"
BUG_SAME_ENDPOINT_OVERWRITE = "same-endpoint-other-type-overwrites-node"
BUG_NULL_CONTEXT_CRASH = "app-command-without-alias-and-context-crashes"
BUG_STATUS_ROUTE_UNINITIALISED = "status-without-jvmroute-reads-stack"
BUG_RENAME_HITS_OLDER_REMOVED = "rename-updates-an-older-removed-node"
BUG_MISSING_VALUE_CRASH = "key-without-value-crashes"

BUGS: dict[str, str] = {
    BUG_STOP_REPLY_WIDTH: (
        "1.3.x STOP-APP reply prints Alias and Context with `%.*s` and sizeof(char *): both are cut to 8 "
        "characters (`Alias=localhos`)"
    ),
    BUG_LIST_SKIPS_AFTER_COMMA: (
        "2.x parse_list_to_array_with_checks advances twice after a ',': the character after it is neither "
        "counted nor checked, so a 1-character last item is refused as empty (`Alias=a,b` -> 'TODO: Empty "
        "Alias is not allowed'), ',,' does not split, and later items may be one character longer"
    ),
    BUG_DECODE_STOPS_AT_EMPTY: (
        "1.3.x decodeenc returns at the first empty value: %-escapes after it stay undecoded "
        "(`Domain=&JVMRoute=n%31` registers the route 'n%31')"
    ),
    BUG_SAME_ENDPOINT_OVERWRITE: (
        "2.x process_config: a new JVMRoute on the host:port of a node with another Type or Balancer takes "
        "that node's slot (find_node_byhostport), so the first node disappears"
    ),
    BUG_NULL_CONTEXT_CRASH: (
        "1.3.x app command with JVMRoute only (no Alias, no Context, not /*): STOP-APP copies the NULL Context "
        "(strncpy) and ENABLE-APP compares it (strcmp) when any context exists: the httpd child dies, no reply"
    ),
    BUG_STATUS_ROUTE_UNINITIALISED: (
        "STATUS without a JVMRoute key reads the route from an uninitialised nodeinfo_t (both lines): it "
        "answers for (and sets the Load of) whatever route an earlier request left on the thread's stack, "
        "e.g. 'Type=STATUS-RSP&JVMRoute=<an earlier node>&State=..' on 1.3.22, 'MEM: Can't read node with "
        "\"<an earlier node>\" JVMRoute' on 2.x, instead of its error ('TODO: No JVMRoute given!' on 2.x)"
    ),
    BUG_MISSING_VALUE_CRASH: (
        "2.x: a JVMRoute, Alias, Context, Load or Scheme key without '=' at the end of an app command, STATUS or "
        "PING body has a NULL value, which strlen / the list parser / sscanf / strcasecmp read: the httpd child "
        "dies and the connection closes without a reply (CONFIG checks for it: SMESPAR)"
    ),
    BUG_RENAME_HITS_OLDER_REMOVED: (
        "1.3.x CONFIG of a known JVMRoute with a new host/port/type renames the node REMOVED, then "
        "insert_update_node zeroes its id and updates the first node already called REMOVED: when an older "
        "one exists, the renamed node keeps its aliases and contexts (INFO shows them, DUMP cannot place them) "
        "and a node registered next can inherit them"
    ),
}


@dataclass(frozen=True)
class LineRules:
    """One mod_cluster line in one mode, as the model needs it."""

    label: str
    line: str  # "1.3" | "2.x"
    mode: str  # "proxy_cluster" | "lbmethod_cluster"
    first_id: int  # ids in INFO/DUMP: 1-based slot tables on 1.3.x, 0-based on 2.x
    slots: str  # "lifo" (1.3 cluster_slotmem: the last id freed is given next) | "lowest" (httpd's slotmem_shm)
    body: str  # "pairs" (1.3: strict key=value pairs) | "split" (2.x: split on every '&' and '=')
    # field limits: value length must stay below (strlen >= size is "too big")
    route_size: int = 64
    balancer_size: int = 40
    domain_size: int = 20
    host_size: int = 64
    port_size: int = 7
    type_size: int = 16
    cookie_size: int = 30
    alias_size: int | None = None  # None: not checked (1.3.x stores the first alias_keep characters)
    context_size: int | None = None
    alias_keep: int = 255
    context_keep: int = 80
    config_lists: str = "pairs"  # "pairs": each Alias key starts a vhost with its Context (1.3) | "per_alias"
    app_vhost: str = "first_alias"  # "first_alias": one vhost found/created by the first alias | "per_alias"
    app_repeat_keys: bool = False  # 2.x: repeated Alias/Context keys add items; 1.3.x: SMULALB / SMULCTB
    # aliases are lowercased in app commands on both lines, in CONFIG only on 2.x (part of its list parser)
    app_needs_pair: bool = True  # 2.x refuses an app command with neither Alias nor Context (NOCONAL)
    remove_unknown_ok: bool = False  # 1.3.x: REMOVE-APP of an unknown or removed node answers 200
    timeouts: str = "atoi"  # "atoi" (1.3: seconds, digits only) | "units" (2.x: ap_timeout_parameter_parse)
    booleans: str = "one-word"  # "one-word" (1.3: only the non-default word counts) | "yes-no"
    changed_node: str = "rename"  # "rename" (1.3: old node renamed REMOVED, MNODERM) | "refuse" (MNODEEX)
    balancer_first: bool = True  # 1.3.x writes the balancer record before the node checks
    removed_frees_worker: bool = True  # 1.3.x: any removed node leaves its host:port free; 2.x: once REMOVED
    load: str = "atoi"  # "atoi" (1.3: any integer, missing = -1) | "range" (2.x: -1..100, else BAD_LOAD)
    app_reply: str = "empty"  # "empty" | "listing" (2.x: Type=..-RSP, JvmRoute, one line per alias)
    ping_address: str = "connect"  # "connect" (1.3: TCP connect) | "worker" (2.x: a known worker, pinged)
    ping_checks_scheme: bool = False  # 2.x refuses schemes other than ajp/http/https/ws/wss
    ping_empty_route_is_node: bool = True  # 1.3.x: "JVMRoute=" still asks for a node (""); 2.x: no route
    node_pings: bool = True  # False without mod_proxy_cluster (lbmethod_cluster): STATUS/PING answer OK, no Load
    worker_load: int | None = None  # lbmethod_cluster: INFO shows mod_proxy_balancer's worker lbfactor instead
    status_route_message: str = MNODERD  # STATUS without JVMRoute (1.3: uninitialised route "")
    status_route_type: str = "MEM"
    bugs: frozenset[str] = frozenset()


RULES_13 = LineRules(
    label="1.3.x proxy_cluster",
    line="1.3",
    mode="proxy_cluster",
    first_id=1,
    slots="lifo",
    body="pairs",
    alias_keep=99,  # char host[HOSTALIASZ=100], strncpy + NUL: 99 characters stay
    context_keep=80,  # char context[CONTEXTSZ=80], strncpy without NUL, printed with %.*s 80
    remove_unknown_ok=True,  # "Already done": REMOVE-APP of an unknown or removed node is a success
    status_route_message=MNODERD,
    bugs=frozenset(
        {
            BUG_STOP_REPLY_WIDTH,
            BUG_DECODE_STOPS_AT_EMPTY,
            BUG_NULL_CONTEXT_CRASH,
            BUG_STATUS_ROUTE_UNINITIALISED,
            BUG_RENAME_HITS_OLDER_REMOVED,
        }
    ),
)

RULES_2X = LineRules(
    label="2.x proxy_cluster",
    line="2.x",
    mode="proxy_cluster",
    first_id=0,
    slots="lowest",
    body="split",
    alias_size=255,  # HOSTALIASZ: an alias of 255 characters or more is too big
    context_size=80,  # CONTEXTSZ
    alias_keep=255,
    context_keep=80,
    config_lists="per_alias",  # 2.x: one vhost per alias (vid++ per alias), every context in each
    app_vhost="per_alias",  # 2.x: each alias looked up / created on its own
    app_repeat_keys=True,
    app_needs_pair=False,
    remove_unknown_ok=False,
    timeouts="units",
    booleans="yes-no",
    changed_node="refuse",
    balancer_first=False,
    removed_frees_worker=False,
    load="range",
    app_reply="listing",
    ping_address="worker",
    ping_checks_scheme=True,
    ping_empty_route_is_node=False,
    status_route_message=NO_ROUTE,
    status_route_type="SYNTAX",
    bugs=frozenset(
        {
            BUG_LIST_SKIPS_AFTER_COMMA,
            BUG_SAME_ENDPOINT_OVERWRITE,
            BUG_STATUS_ROUTE_UNINITIALISED,
            BUG_MISSING_VALUE_CRASH,
        }
    ),
)

RULES: dict[tuple[str, str], LineRules] = {
    ("1.3", "proxy_cluster"): RULES_13,
    ("2.x", "proxy_cluster"): RULES_2X,
    # lbmethod_cluster: mod_manager is the same, but no balancer_method provider (mod_proxy_cluster) is loaded:
    # STATUS and PING answer OK without pinging or setting the Load, and INFO shows the lbfactor of the
    # worker mod_manager made in mod_proxy_balancer (httpd's default 100; none, so 0, for a balancer the
    # configuration does not declare)
    ("2.x", "lbmethod_cluster"): LineRules(
        **{
            **RULES_2X.__dict__,
            "label": "2.x lbmethod_cluster",
            "mode": "lbmethod_cluster",
            "node_pings": False,
            "worker_load": 100,
        }
    ),
}


def rules_for(line: str, mode: str = "proxy_cluster") -> LineRules:
    """The row for a source line ("1.3" or "2.x") and balancer mode; KeyError naming both when absent."""
    try:
        return RULES[(line, mode)]
    except KeyError:
        known = ", ".join(f"{li}/{mo}" for li, mo in RULES)
        raise KeyError(f"no MCMP model rules for line {line!r} in mode {mode!r}; known: {known}") from None
