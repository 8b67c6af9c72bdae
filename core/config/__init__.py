"""The configuration documents, one module each (the file name says which YAML it reads), and
`projet.ProjectConfig`, which loads them all from one config folder."""
