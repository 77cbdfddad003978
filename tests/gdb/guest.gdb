set pagination off
set confirm off
target remote 127.0.0.1:@PORT@
@TF@

break gdb_regs_set
continue
printf "AT eip=%x eax=%x ecx=%x edx=%x ebx=%x esi=%x edi=%x ebp=%x\n", $eip, $eax, $ecx, $edx, $ebx, $esi, $edi, $ebp
printf "CR0 %x\n", $cr0
stepi
printf "STEP1 eip=%x eax=%x\n", $eip, $eax
stepi
printf "STEP2 eip=%x ecx=%x\n", $eip, $ecx
printf "MEM %02x %02x %02x\n", *(unsigned char *)gdb_regs_set, *((unsigned char *)gdb_regs_set + 1), *((unsigned char *)gdb_regs_set + 2)
set var $eax = 0x11111111
printf "WROTE eax=%x\n", $eax
break gdb_pushf
continue
stepi
stepi
printf "PUSHED tf=%u\n", (*(unsigned int *)&gdb_pushed_flags >> 8) & 1
delete
hbreak gdb_marker
continue
printf "MARKER n=%u\n", *(unsigned int *)($esp + 4)
continue
printf "MARKER n=%u\n", *(unsigned int *)($esp + 4)
continue
printf "MARKER n=%u\n", *(unsigned int *)($esp + 4)
printf "COUNTER %u\n", *(unsigned int *)&gdb_counter
printf "UNMAPPED\n"
x/1xw 0xfffff000
delete
@WATCH@
watch *(unsigned int *)&gdb_watched
continue
printf "WATCHED %x\n", *(unsigned int *)&gdb_watched
delete
continue
