//! `vocmine train topic`: a head trained on a user's labelled rows lands in the workspace, and
//! the next `mine` gives new documents its classes as topics (real encoder, a few short rows).

use crate::util::{succeed, vocmine_real, Scratch};

const LABELLED: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/topics/labelled.csv"
);

fn train(scratch: &Scratch) -> String {
    let mut command = vocmine_real();
    command
        .args(["train", "topic"])
        .arg(scratch.workspace())
        .args(["--labels", LABELLED, "--text-column", "text"])
        .args(["--label-column", "topic"]);
    String::from_utf8(succeed(command, "train topic")).expect("utf-8 output")
}

#[test]
fn a_trained_topic_head_gives_new_documents_its_classes() {
    let scratch = Scratch::new();
    let printed = train(&scratch);
    assert!(
        printed.contains("topics: billing, delivery, repair"),
        "{printed}"
    );
    let head_path = scratch.workspace().join("models/topic.json");
    let head: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&head_path).expect("head written")).unwrap();
    let encoder = head["metadata"]["encoder"].as_str().unwrap_or_default();
    assert!(encoder.starts_with("e5-t256"), "{encoder}");
    assert_eq!(head["metadata"]["data"][0]["path"], "labelled.csv");

    let input = scratch.write(
        "new.csv",
        "id,text\n\
         n1,I was charged a second time for one oil change\n\
         n2,The parcel with my spare parts never arrived\n\
         n3,After the repair the engine light is on again\n"
            .as_bytes(),
    );
    scratch.mine_real(&[&input]);
    for (topic, id) in [("billing", "n1"), ("delivery", "n2"), ("repair", "n3")] {
        assert_eq!(
            scratch.search_ids("*", &["--topic", topic]),
            [id],
            "topic {topic}"
        );
    }
}

#[test]
fn a_head_from_another_encoder_is_refused_with_what_to_do() {
    let scratch = Scratch::new();
    train(&scratch);
    let head_path = scratch.workspace().join("models/topic.json");
    let text = std::fs::read_to_string(&head_path).unwrap();
    std::fs::write(&head_path, text.replace("\"e5-t256", "\"minilm-t256")).unwrap();
    let input = scratch.write("new.csv", b"id,text\nn1,The parcel never arrived\n");
    let output = vocmine_real()
        .arg("mine")
        .arg(scratch.workspace())
        .arg(input)
        .output()
        .expect("run");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("vocmine train topic"), "{stderr}");
}
