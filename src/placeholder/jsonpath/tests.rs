//! Tables mirroring client-go's `util/jsonpath/jsonpath_test.go` and `parser_test.go`.

use serde_json::{Value, json};

use super::*;

fn render(template: &str, input: &Value) -> Result<String, String> {
    let path = JsonPath::parse(template).map_err(|e| format!("parse: {e}"))?;
    path.render(input).map_err(|e| e.to_string())
}

fn types() -> Value {
    json!({
        "bools": [true, false, true, false],
        "integers": [1, 2, 3, 4],
        "floats": [1.5, 2.2, 3.3, 4.25],
        "strings": ["one", "two", "three", "four"],
        "interfaces": [true, "one", 1, 1.1],
        "maps": [{"name": "one", "value": 1}, {"name": "two", "value": 2.02}, {"name": "three", "value": 3.03}, {"name": "four", "value": 4.04}],
    })
}

fn store() -> Value {
    json!({
        "Name": "jsonpath",
        "Book": [
            {"Category": "reference", "Author": "Nigel Rees", "Title": "Sayings of the Centurey", "Price": 8.95},
            {"Category": "fiction", "Author": "Evelyn Waugh", "Title": "Sword of Honour", "Price": 12.99},
            {"Category": "fiction", "Author": "Herman Melville", "Title": "Moby Dick", "Price": 8.99},
        ],
        "Bicycle": [{"Color": "red", "Price": 19.95, "IsNew": true}, {"Color": "green", "Price": 20.01, "IsNew": false}],
        "Labels": {"engieer": 10, "web/html": 15, "k8s-app": 20},
    })
}

fn nodes() -> Value {
    json!({
        "kind": "List",
        "items": [
            {"kind": "None", "metadata": {"name": "127.0.0.1", "labels": {"kubernetes.io/hostname": "127.0.0.1"}},
             "status": {"capacity": {"cpu": "4"}, "ready": true, "addresses": [{"type": "LegacyHostIP", "address": "127.0.0.1"}]}},
            {"kind": "None", "metadata": {"name": "127.0.0.2", "labels": {"kubernetes.io/hostname": "127.0.0.2"}},
             "status": {"capacity": {"cpu": "8"}, "ready": false, "addresses": [{"type": "LegacyHostIP", "address": "127.0.0.2"}, {"type": "another", "address": "127.0.0.3"}]}},
        ],
        "users": [{"name": "myself", "user": {}}, {"name": "e2e", "user": {"username": "admin", "password": "secret"}}],
    })
}

fn containers() -> Value {
    json!({"spec": {"containers": [{"name": "fake0"}, {"name": "fake1"}, {"name": "fake2"}, {"name": "fake3"}, {"name": "fake4"}, {"name": "fake5"}]}})
}

#[test]
fn renders_like_client_go() {
    let (types, store, nodes, containers) = (types(), store(), nodes(), containers());
    let points = json!([{"id": "i1", "x": 4, "y": -5}, {"id": "i2", "x": -2, "y": -5, "z": 1}, {"id": "i5", "x": 0, "y": 2, "z": 1}, {"id": "i7", "x": null, "y": 4}]);
    #[rustfmt::skip]
    let cases: Vec<(&str, Value, &str)> = vec![
        // TestTypesInput
        ("{ .bools }", types.clone(), "[true,false,true,false]"),
        ("{ .bools[0] }", types.clone(), "true"),
        ("{ .bools[-1] }", types.clone(), "false"),
        ("{ .bools[0:2] }", types.clone(), "true false"),
        ("{ .bools[:4:2] }", types.clone(), "true true"),
        ("{ .integers }", types.clone(), "[1,2,3,4]"),
        ("{ .integers[-2] }", types.clone(), "3"),
        ("{ .integers[:4:2] }", types.clone(), "1 3"),
        ("{ .floats[-2] }", types.clone(), "3.3"),
        ("{ .strings }", types.clone(), r#"["one","two","three","four"]"#),
        ("{ .strings[-2] }", types.clone(), "three"),
        ("{ .interfaces }", types.clone(), r#"[true,"one",1,1.1]"#),
        ("{ .interfaces[0:2] }", types.clone(), "true one"),
        ("{ .maps[0] }", types.clone(), r#"{"name":"one","value":1}"#),
        ("{ .maps[1::2] }", types.clone(), r#"{"name":"two","value":2.02} {"name":"four","value":4.04}"#),
        // TestStructInput (as JSON)
        ("hello {.Name}", store.clone(), "hello jsonpath"),
        ("{..}", json!([1, 2, 3]), "[1,2,3]"),
        ("{[?(@<5)]}", json!([2, 6, 3, 7]), "2 3"),
        (r#"{"{"}"#, Value::Null, "{"),
        ("{[1,3,4]}", json!([0, 1, 2, 3, 4]), "1 3 4"),
        ("{[0:2]}", json!(["Monday", "Tudesday"]), "Monday Tudesday"),
        ("{$.Labels.web/html}", store.clone(), "15"),
        ("{.Labels.k8s-app}", store.clone(), "20"),
        ("{.Bicycle[*].Color}", store.clone(), "red green"),
        ("{.Book[*].Author}", store.clone(), "Nigel Rees Evelyn Waugh Herman Melville"),
        (r#"{range .Bicycle[*]}{ "{" }{ @.* }{ "} " }{end}"#, store.clone(), "{red 19.95 true} {green 20.01 false} "),
        ("{..Price}", store.clone(), "8.95 12.99 8.99 19.95 20.01"),
        ("{...Price}", store.clone(), "8.95 12.99 8.99 19.95 20.01"),
        ("{.Book[-1:].Title}", store.clone(), "Moby Dick"),
        ("{..Book[2].Title}", store.clone(), "Moby Dick"),
        ("{.Bicycle[?(@.IsNew==true)].Color}", store.clone(), "red"),
        ("{.Bicycle[?(@.Price > 20)].Color}", store.clone(), "green"),
        ("{.Bicycle[?(@.Price<=19.95)].Color}", store.clone(), "red"),
        ("{.Bicycle[?(@.Color!='red')].Color}", store.clone(), "green"),
        ("{.Bicycle[?(@.Price >= 20.01)].Color}", store.clone(), "green"),
        ("{.Book[?(@.Price < 10)].Title}", store.clone(), "Sayings of the Centurey Moby Dick"),
        // TestJSONInput
        ("{[?(@.z)].id}", points.clone(), "i2 i5"),
        ("{[0]['id']}", points.clone(), "i1"),
        ("{[-1]['x']}", points.clone(), "null"),
        // TestKubernetes
        ("{range .items[*]}{.metadata.name}, {end}{.kind}", nodes.clone(), "127.0.0.1, 127.0.0.2, List"),
        (r#"{range .items[*]}{.metadata.name}{"\t"}{end}"#, nodes.clone(), "127.0.0.1\t127.0.0.2\t"),
        ("{.items[*].status.addresses[*].address}", nodes.clone(), "127.0.0.1 127.0.0.2 127.0.0.3"),
        ("{range .items[*]}{range .status.addresses[*]}{.address}, {end}{end}", nodes.clone(), "127.0.0.1, 127.0.0.2, 127.0.0.3, "),
        ("{.items[*]['metadata.name', 'status.capacity']}", nodes.clone(), r#"127.0.0.1 127.0.0.2 {"cpu":"4"} {"cpu":"8"}"#),
        ("{range .items[*]}[{.metadata.name}, {.status.capacity}] {end}", nodes.clone(), r#"[127.0.0.1, {"cpu":"4"}] [127.0.0.2, {"cpu":"8"}] "#),
        (r#"{.users[?(@.name=="e2e")].user.password}"#, nodes.clone(), "secret"),
        (r"{.items[0].metadata.labels.kubernetes\.io/hostname}", nodes.clone(), "127.0.0.1"),
        (r#"{.items[?(@.metadata.labels.kubernetes\.io/hostname=="127.0.0.1")].kind}"#, nodes.clone(), "None"),
        ("{.items[?(@..ready==true)].metadata.name}", nodes.clone(), "127.0.0.1"),
        ("{..name}", nodes.clone(), "127.0.0.1 127.0.0.2 myself e2e"),
        // TestNegativeIndex and TestStep
        ("{.spec.containers[0:-1].name}", containers.clone(), "fake0 fake1 fake2 fake3 fake4"),
        ("{.spec.containers[-1:].name}", containers.clone(), "fake5"),
        ("{.spec.containers[-6].name}", containers.clone(), "fake0"),
        ("{.spec.containers[6:6].name}", containers.clone(), ""),
        ("{.spec.containers[-7:-7].name}", containers.clone(), ""),
        ("{.spec.containers[0:6:].name}", containers.clone(), "fake0 fake1 fake2 fake3 fake4 fake5"),
        ("{.spec.containers[1:4:2].name}", containers.clone(), "fake1 fake3"),
        ("{.spec.containers[0:6:5].name}", containers.clone(), "fake0 fake5"),
        ("{.spec.containers[0:6:6].name}", containers.clone(), "fake0"),
        // Printing and quoting
        ("{'['}{.a}{']'}", json!({"a": "x"}), "[x]"),
        (r"{'it\'s'} {'\u00e9\x41\101'}", Value::Null, "it's éAA"),
        ("{.a}", json!({"a": {"z": 1, "b": "<&>"}}), r#"{"b":"\u003c\u0026\u003e","z":1}"#),
        ("{.a} {.b} {.c}", json!({"a": null, "b": 2.5, "c": false}), "null 2.5 false"),
        ("{.a.*}", json!({"a": "hi"}), "104 105"),
        ("{.a[]}", json!({"a": ["x", "y"]}), "x"),
        ("{.a 1}", json!({"a": [1, 2]}), "1"),
        ("{.a[*] true}", json!({"a": [1, 2]}), "true true"),
        ("{.a[?(@.v == '1')].n}", json!({"a": [{"v": 1, "n": "num"}, {"v": "1", "n": "text"}]}), "num text"),
        ("{.a[?(@.n == 'x')].n}", json!({"a": []}), ""),
        ("{range .a[*]}{@}{end}", json!({"a": []}), ""),
        ("{range .a[*]}{'x'}{end}-", json!({"a": []}), "-"),
    ];
    for (template, input, expected) in cases {
        assert_eq!(
            render(template, &input).as_deref(),
            Ok(expected),
            "template {template:?}"
        );
    }
}

#[test]
fn fails_like_client_go() {
    let (store, containers) = (store(), containers());
    let pods = json!({"items": [{"metadata": {"annotations": {"color": "blue"}, "name": "pod1"}}, {"metadata": {"name": "pod2"}}]});
    #[rustfmt::skip]
    let cases: Vec<(&str, Value, &str)> = vec![
        ("{.hello}", store.clone(), r#"key "hello" not found"#),
        ("before-{.hello}after", store.clone(), r#"key "hello" not found"#),
        ("{.Labels[0]}", store.clone(), "an index [...] needs a list, found a map"),
        ("{.Name[?(@.x)]}", store.clone(), "a filter [?(...)] needs a list, found text"),
        ("{.spec.containers[-1:0].name}", containers.clone(), "slice start 5 is after its end 0"),
        ("{.spec.containers[-7].name}", containers.clone(), "index -1 is out of range for a list of 6"),
        ("{.spec.containers[6].name}", containers.clone(), "index 6 is out of range for a list of 6"),
        ("{.spec.containers[0:7].name}", containers.clone(), "index 6 is out of range for a list of 6"),
        ("{.spec.containers[3:1].name}", containers.clone(), "slice start 3 is after its end 1"),
        (r#"{.items[?(@.metadata.annotations.color=="blue")].metadata.name}"#, pods.clone(), r#"key "annotations" not found"#),
        ("{range .a[*]}{.name}{end}", json!({"a": []}), r#"key "name" not found"#),
        ("{.a[?(@ == true)]}", json!({"a": ["x"]}), "a filter cannot compare text with a boolean"),
        ("{.a[?(@ < true)]}", json!({"a": [true]}), "a filter cannot compare a boolean (only text, numbers and booleans)"),
        ("{.a[?(@ == 1)]}", json!({"a": [{}]}), "a filter cannot compare a map (only text, numbers and booleans)"),
        ("{.a[?(@.* == 1)]}", json!({"a": [{"x": 1, "y": 2}]}), "a filter compares one value at a time, but a side selected 2"),
    ];
    for (template, input, expected) in cases {
        assert_eq!(
            render(template, &input),
            Err(expected.to_owned()),
            "template {template:?}"
        );
    }
}

#[test]
fn rejects_when_parsed() {
    #[rustfmt::skip]
    let cases = [
        ("", "no {...} block: write the path in braces, e.g. {.key}"),
        (".a.b", "no {...} block: write the path in braces, e.g. {.a.b}"),
        ("{.hello", r#"missing "}" to close this block at character 1"#),
        ("{*}", "unexpected character '*' at character 2"),
        ("{!invalidPath}", "unexpected character '!' at character 2"),
        ("{+12.3.0}", r#""+12.3.0" is not a number at character 2"#),
        ("{[1}", r#"missing "]" at character 2"#),
        ("{[?(.price]}", r#"missing ")]" to close the filter at character 2"#),
        ("{........}", r#"".." cannot follow ".." at character 4"#),
        ("{hello}", r#"unknown word "hello" (a key is written ".hello") at character 2"#),
        ("{.Book[?(@.Price<>10)]}", r#"unknown filter operator "<>" (use ==, !=, <, <=, > or >=) at character 7"#),
        ("{range .a}{@}{end}{end}", "{end} without a {range} to close at character 19"),
        ("{range .a}{@}", "{range ...} without its {end} at character 1"),
        ("{.a range}", r#""range" must open its own block: {range ...} at character 5"#),
        ("{end .a}", "{end} takes nothing else at character 1"),
        ("{.a[x]}", r#"invalid index "x" (use [N], [start:end:step], [*], ['key'] or [a,b]) at character 5"#),
        (r#"{.a["k"]}"#, r#"invalid index "\"k\"" (use [N], [start:end:step], [*], ['key'] or [a,b]) at character 5"#),
        ("{.a[ 1 ]}", r#"invalid index " 1 " (use [N], [start:end:step], [*], ['key'] or [a,b]) at character 5"#),
        ("{.a[::0]}", "slice step must be a positive integer at character 5"),
        ("{.a[-]}", r#"index "-" is not a number at character 5"#),
        ("{.a[99999999999999999999]}", r#"index "99999999999999999999" is not a number at character 5"#),
        ("{.a[1,x]}", r#"in "[x]": invalid index "x" (use [N], [start:end:step], [*], ['key'] or [a,b]) at character 4"#),
        ("{'abc}", "missing closing ' at character 2"),
        (r"{'\q'}", "invalid escape in quoted text at character 2"),
        (r"{'\xff'}", "invalid escape in quoted text at character 2"),
        ("{.a\n}", r#"missing "}" to close this block at character 1"#),
    ];
    for (template, expected) in cases {
        assert_eq!(
            render(template, &Value::Null),
            Err(format!("parse: {expected}")),
            "template {template:?}"
        );
    }
}

/// <https://github.com/argoproj-labs/argocd-vault-plugin/blob/main/fixtures/input/nonempty/modifers.yaml>
/// after YAML folding and AVP's whitespace joining.
#[test]
fn avp_fixture_builds_a_list_of_ports() {
    let template = r#"{'['} {range .service.ports[0:-1:1]} {'{"protocol":"TCP",'} {'"port":'}{@} {',"targetPort":'}{@} {'},'} {end} {'{"protocol":"TCP",'} {'"port":'}{.service.ports[-1]} {',"targetPort":'}{.service.ports[-1]} {'}]'}"#;
    let data = json!({"service": {"enableTLS": true, "ports": [80, 8080]}});
    assert_eq!(
        render(template, &data).as_deref(),
        Ok(
            r#"[  {"protocol":"TCP", "port":80 ,"targetPort":80 },  {"protocol":"TCP", "port":8080 ,"targetPort":8080 }]"#
        )
    );
}

#[test]
fn hostile_templates_are_bounded() {
    let long = format!("{{.a}}{}", "x".repeat(MAX_EXPRESSION_CHARS));
    assert_eq!(
        JsonPath::parse(&long).map(|_| ()).map_err(|e| e.message),
        Err(format!(
            "template longer than {MAX_EXPRESSION_CHARS} characters"
        ))
    );
    let list: Vec<u32> = (0..200).collect();
    let fan_out = format!("{{.a[*][{}]}}", vec!["*"; 64].join(","));
    let wide = json!({"a": vec![list.clone(); 200]});
    assert_eq!(
        render(&fan_out, &wide),
        Err(EvalError::TooMuchWork.to_string())
    );
    let ranges = format!("{{range .a[*]}}{{[{}]}}{{end}}", vec!["*"; 32].join(","));
    assert_eq!(
        render(&ranges, &wide),
        Err(EvalError::TooMuchWork.to_string())
    );
    let big = json!({"a": "x".repeat(600_000)});
    assert_eq!(
        render("{.a}{.a}", &big),
        Err(EvalError::OutputTooLarge.to_string())
    );
    let mut deep = json!(1);
    for _ in 0..300 {
        deep = json!([deep]);
    }
    assert_eq!(render("{@}", &deep), Err(EvalError::TooDeep.to_string()));
}
