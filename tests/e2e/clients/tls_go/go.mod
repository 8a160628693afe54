module csgotls

go 1.19
