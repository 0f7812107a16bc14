"""The geneb-mini suite: its tasks in official (GENEB category) order.

Each `TaskDef` names a builder (a pure function of the sources and the task's seed) and
carries the catalog metadata: category, whether labels are simulated, provenance.
"""

from __future__ import annotations

from .build_ddis import build_coding, build_lncrna, build_splice
from .build_dmel import build_promoter, build_regulatory
from .build_genomes import (
    BACT_LEN,
    build_methylation,
    build_phage,
    build_species,
    build_species_bacteria,
)
from .build_motifs import (
    ACCESSIBLE_TFS,
    CTCF,
    ENHANCER_DECOYS,
    ERYTHROID,
    ESC_COMPOSITE,
    ESC_DECOYS,
    ESC_PARTNERS,
    H3K4ME3_DECOYS,
    H3K4ME3_TFS,
    build_chromatin,
    build_enhancer,
    build_histone,
    build_mouse_enhancer,
)
from .build_peaks import build_tf
from .taskdef import TaskDef

TASKS: tuple[TaskDef, ...] = (
    TaskDef(
        "mini_histone_promoter_tfs_sim",
        "mini H3K4me3-like (sim)",
        "Histone Mod.",
        True,
        101,
        ("human_chrx", "jaspar"),
        "500 nt hs37 chrX windows + 2-3 planted JASPAR2024 sites: promoter TFs "
        f"{'/'.join(H3K4ME3_TFS)} (1) vs tissue TFs {'/'.join(H3K4ME3_DECOYS)} (0)",
        build_histone,
    ),
    TaskDef(
        "mini_promoter_dmel",
        "mini Drosophila promoter",
        "Promoters",
        False,
        102,
        ("dmel_upstream",),
        "dm3 upstream2000: -300..-1 of the TSS (1) vs -2000..-1701 of other genes clear of any "
        "proximal promoter (0), GC-matched",
        build_promoter,
    ),
    TaskDef(
        "mini_enhancer_erythroid_sim",
        "mini erythroid enhancer grammar (sim)",
        "Enhancers",
        True,
        103,
        ("human_chrx", "jaspar"),
        f"400 nt hs37 chrX windows + planted {'+'.join(ERYTHROID)} (1) vs one of them + 2 of "
        f"{'/'.join(ENHANCER_DECOYS)} (0)",
        build_enhancer,
    ),
    TaskDef(
        "mini_methyl_cgi_context_hsx",
        "mini CpG-island context (sim label)",
        "DNA Methyl.",
        True,
        104,
        ("human_chrx",),
        "80 nt hs37 chrX windows centred on a CpG; 1 kb context GC>=0.55 & CpG o/e>=0.65 (1) vs "
        "o/e<0.4 (0), GC-matched",
        build_methylation,
    ),
    TaskDef(
        "mini_splice_ddis",
        "mini Dictyostelium splice sites",
        "Splice Sites",
        False,
        105,
        ("ddis_genome", "ddis_cdna"),
        "100 nt windows at exact cDNA-genome GT-AG junctions: GC-matched non-site GT/AG (0), "
        "donor (1), acceptor (2); loci split",
        build_splice,
    ),
    TaskDef(
        "mini_lncrna_antisense_ddis",
        "mini sense vs antisense transcript (sim proxy)",
        "lncRNA",
        True,
        106,
        ("ddis_cdna",),
        "150 nt windows of cDNAs oriented by spliced alignment, one per gene locus: sense (1) vs "
        "reverse complement of other cDNAs (0)",
        build_lncrna,
    ),
    TaskDef(
        "mini_mouse_enh_esc_sim",
        "mini mouse ESC enhancer grammar (sim)",
        "Mouse Enh.",
        True,
        107,
        ("mafk_peaks", "jaspar"),
        f"200 nt mouse Mafk peaks (unused by TF task) + planted 2x {ESC_COMPOSITE} + one of "
        f"{'/'.join(ESC_PARTNERS)} (1) vs 3 of those partners and decoys {'/'.join(ESC_DECOYS)} (0)",
        build_mouse_enhancer,
    ),
    TaskDef(
        "mini_tf_oct4_mafk",
        "mini Oct4 vs Mafk ChIP-seq",
        "TF Binding",
        False,
        108,
        ("oct4_peaks", "mafk_peaks"),
        "200 nt peak centres: 800 Oct4 (1) vs 800 Mafk (0) peaks, GC-balanced, from the first 2600 of each file",
        build_tf,
    ),
    TaskDef(
        "mini_species_euk5",
        "mini 5 eukaryotes",
        "Species Clf.",
        False,
        109,
        ("human_chrx", "celegans_chrx", "pfalciparum", "pknowlesi", "ddis_genome"),
        "150 nt windows: human chrX (0), C. elegans chrX (1), P. falciparum (2), P. knowlesi (3), "
        "D. discoideum (4); train/test from disjoint genome regions",
        build_species,
    ),
    TaskDef(
        "mini_species_bact3",
        "mini 3 bacteria (64 nt)",
        "Species Clf.",
        False,
        114,
        ("ecoli536", "saureus", "hpylori"),
        f"{BACT_LEN} nt windows: E. coli 536 (0), S. aureus (1), H. pylori (2), first chromosome of "
        "each file; train/test from disjoint genome regions",
        build_species_bacteria,
    ),
    TaskDef(
        "mini_regulatory_dmel_position",
        "mini upstream position class",
        "Regulatory",
        False,
        110,
        ("dmel_upstream",),
        "dm3 upstream2000, one 250 nt window per gene: -250..-1 (0), -1000..-751 (1), -2000..-1751 (2); "
        "genes disjoint from the promoter task",
        build_regulatory,
    ),
    TaskDef(
        "mini_virus_phage_bacteria",
        "mini bacterium / phage / RNA virus",
        "Virus/Phage",
        False,
        111,
        ("ecoli536", "lambda", "dwv", "vdv1"),
        "250 nt fragments: E. coli 536 GC-matched to the phage (0), phage lambda (1), honeybee RNA "
        "viruses DWV + VDV-1 (2); disjoint genome regions per split",
        build_phage,
    ),
    TaskDef(
        "mini_coding_ddis",
        "mini Dictyostelium coding vs non-coding",
        "Coding/NC",
        False,
        112,
        ("ddis_genome", "ddis_cdna"),
        "100 nt windows: annotated CDS (1) vs cDNA-supported introns and UTRs (0), GC-balanced",
        build_coding,
    ),
    TaskDef(
        "mini_chromatin_core_sim",
        "mini accessible-core grammar (sim)",
        "Chromatin Acc.",
        True,
        113,
        ("human_chrx", "jaspar"),
        f"1000 nt hs37 chrX windows: {CTCF} + one site of each of {'/'.join(ACCESSIBLE_TFS)} in the "
        "central 300 nt (1) vs one site of one of those TFs anywhere (0)",
        build_chromatin,
    ),
)
