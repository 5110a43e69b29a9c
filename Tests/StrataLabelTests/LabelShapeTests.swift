import Testing
import StrataLabel

@Suite("label shape: word counts, conjunctions of children, summary")
struct LabelShapeTests {
    @Test("words are runs of letters, digits, apostrophes and hyphens")
    func words() {
        #expect(LabelShape.wordCount("X11 window managers") == 3)
        #expect(LabelShape.wordCount("Plants") == 1)
        #expect(LabelShape.wordCount("Hand-held devices, mostly") == 3)
        #expect(LabelShape.wordCount("") == 0)
    }

    @Test("a parent that joins two of its children's labels is a conjunction; a covering name is not")
    func conjunction() {
        let children = ["Plants", "Fish", "Birds of prey"]
        #expect(LabelShape.isConjunction("Plants and fish", of: children))
        #expect(LabelShape.isConjunction("fish & birds of prey", of: children))
        #expect(!LabelShape.isConjunction("Plants and animals", of: children))
        #expect(!LabelShape.isConjunction("Living things", of: children))
        #expect(!LabelShape.isConjunction("Plants and plants", of: children))
        #expect(!LabelShape.isConjunction("Plants and fish", of: ["Plants"]))
    }

    @Test("the same name up to case and plural endings")
    func sameName() {
        #expect(LabelShape.sameName("Skin disease", "skin diseases"))
        #expect(!LabelShape.sameName("Skin disease", "Skin care"))
        #expect(!LabelShape.sameName("", ""))
    }

    @Test("summary: median (odd and even counts), one-word share, duplicates case-insensitively")
    func summary() {
        let s = LabelShape.summary(["Plants", "Fish", "Bowed string instruments", "plants", "Cities of Europe"])
        #expect(s.medianWords == 1 && s.oneWordShare == 0.6 && s.duplicates == ["plants"])
        let e = LabelShape.summary(["A b", "C d e f", "G", "H i j"])
        #expect(e.medianWords == 2.5 && e.oneWordShare == 0.25 && e.duplicates.isEmpty)
        #expect(LabelShape.summary([]) == LabelShape.Summary(medianWords: 0, oneWordShare: 0, duplicates: []))
    }
}
